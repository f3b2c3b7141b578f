package io.qparams.export;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The latest qparams record of every tensor, the table an export starts from and {@code tail}
 * keeps: from a JSON-lines file of records (what {@code calibrate} prints: the last line of a
 * tensor wins), or from the output topic, read committed from the beginning up to the end offsets
 * seen at the start, so that an export of a live topic ends (within a partition the last record of
 * a tensor wins; the job keys records by tensor, so a tensor lives in one partition; should it
 * appear in several, the record with the later Kafka timestamp wins). On a compacted topic
 * (docs/export.md) the read stays short however long the job has run. A tombstone (null value) for
 * a tensor's key removes the tensor.
 */
public final class LatestRecords implements RecordVisitor {
    private final SortedMap<String, ExportEntry> latest = new TreeMap<>();
    private final Map<String, Long> timestamps = new HashMap<>();
    private final Map<String, Integer> partitions = new HashMap<>();

    /** tensor -> latest entry (named by its tensor), from a JSON-lines records file. */
    public static SortedMap<String, ExportEntry> fromFile(Path file) throws ExportException {
        LatestRecords table = new LatestRecords();
        RecordsFile.read(file, table);
        return table.latest;
    }

    /**
     * tensor -> latest entry, from a topic: every partition from its beginning up to the end offset
     * it had when the read started (read_committed: the last stable offset). Values that are not
     * qparams records are skipped and counted on {@code notes}.
     *
     * @param clientProperties Kafka client settings (bootstrap.servers at least)
     * @param timeout how long to wait for the topic's metadata and for each poll to make progress
     */
    public static SortedMap<String, ExportEntry> fromTopic(
            Properties clientProperties, String topic, Duration timeout, PrintStream notes)
            throws ExportException {
        LatestRecords table = new LatestRecords();
        try (TopicRecords records = TopicRecords.open(clientProperties, topic, timeout)) {
            records.readToEnd(table, notes, "export");
            records.noteSkipped(notes, "export");
        }
        return table.latest;
    }

    @Override
    public void record(ExportEntry entry, int partition, long timestamp) {
        String tensor = entry.tensor();
        Integer before = partitions.get(tensor);
        if (before == null || before == partition || timestamps.get(tensor) <= timestamp) {
            latest.put(tensor, entry);
            timestamps.put(tensor, timestamp);
            partitions.put(tensor, partition);
        }
    }

    @Override
    public void tombstone(String tensor, int partition) {
        latest.remove(tensor);
        timestamps.remove(tensor);
        partitions.remove(tensor);
    }

    /** tensor -> its latest entry, in tensor-name order (a read-only view). */
    public SortedMap<String, ExportEntry> table() {
        return Collections.unmodifiableSortedMap(latest);
    }

    /** The Kafka timestamp of a tensor's latest record, or {@link #NO_TIMESTAMP}. */
    public long timestamp(String tensor) {
        return timestamps.getOrDefault(tensor, NO_TIMESTAMP);
    }
}
