package io.qparams.cli;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.RecordVisitor;

import java.util.NavigableMap;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * What {@code qparams plot} draws: the history of every selected tensor, from every record read (a
 * records file in order, or a topic from its beginning). A tensor's history is its current run: the
 * records from its last {@code batches = 1} on (a reset, or the observer's start; earlier runs are
 * counted, not drawn), one point per batches value, the last record of a value winning (a replay
 * after a failure writes a value again). A tombstone forgets the tensor.
 */
final class PlotHistory implements RecordVisitor {
    /**
     * One record's values: vectors of length 1 for a per-tensor observer; scale null if invalid.
     */
    record Point(float[] minVal, float[] maxVal, float[] scale) {}

    /** A tensor's run: its last record (observer, dtype, ...), and batches -> point. */
    static final class Run {
        private final NavigableMap<Long, Point> points = new TreeMap<>();
        private QParamsRecord last;
        private int earlierRuns;

        QParamsRecord last() {
            return last;
        }

        NavigableMap<Long, Point> points() {
            return points;
        }

        /** How many runs before this one (resets, or restarts) the history held. */
        int earlierRuns() {
            return earlierRuns;
        }

        /** The most channels a point has (1 for a per-tensor observer). */
        int channels() {
            int channels = 1;
            for (Point p : points.values()) {
                channels = Math.max(channels, Math.max(p.minVal().length, p.maxVal().length));
            }
            return channels;
        }
    }

    private final Predicate<String> selected;
    private final SortedMap<String, Run> runs = new TreeMap<>();
    private final SortedSet<String> seen = new TreeSet<>();
    private long records;

    PlotHistory(Predicate<String> selected) {
        this.selected = selected;
    }

    @Override
    public void record(ExportEntry entry, int partition, long timestamp) {
        records++;
        QParamsRecord r = entry.record();
        seen.add(r.tensor());
        if (!selected.test(r.tensor())) {
            return;
        }
        Run run = runs.computeIfAbsent(r.tensor(), t -> new Run());
        if (r.batches() == 1 && !run.points.isEmpty()) {
            run.points.clear();
            run.earlierRuns++;
        }
        run.points.put(r.batches(), new Point(r.minVal(), r.maxVal(), r.isOk() ? r.scale() : null));
        run.last = r;
    }

    @Override
    public void tombstone(String tensor, int partition) {
        runs.remove(tensor);
    }

    /** tensor -> its run, in name order: the selected tensors that have records. */
    SortedMap<String, Run> runs() {
        return runs;
    }

    /** Every record read, selected or not. */
    long records() {
        return records;
    }

    /** Every tensor a record was read of, selected or not (for the message when none is). */
    SortedSet<String> seen() {
        return seen;
    }
}
