package io.qparams.observers;

import java.util.HashMap;
import java.util.Map;

/**
 * The drift rule's verdict on one record (CONTRACT section 7): after batch {@code n} of a watched
 * tensor, with {@code W} the rule's window and {@code s_n} the scale after batch n,
 *
 * <pre>
 *   drift_ratio = max over channels c of  float32(|s_n[c] - s_{n-W}[c]| / s_{n-W}[c])
 *   drift       = drift_ratio > threshold
 * </pre>
 *
 * computed in double from the float32 scales the records carry and rounded to the float32 the
 * record writes; the comparison is of that float32, so a reader re-deriving it from two records
 * agrees. A per-tensor observer has one channel. There is no verdict (the record carries no drift
 * fields) for the first W batches, or when either record is invalid (no scale). A channel whose
 * earlier scale is 0 (possible only with eps 0) has ratio 0 if its scale is still 0, else infinity.
 *
 * <p>An episode is a run of records with {@code drift} true; a record with drift false or without a
 * verdict ends it. The first record of an episode is the one that goes to the events topic.
 */
public final class Drift {
    /**
     * A tensor's recent scales and its episode flag: the job's keyed state, or memory (calibrate).
     */
    public interface History {
        /** The scales recorded after that batch, or null; an empty array for an invalid record. */
        float[] scaleAt(long batch);

        /** Records the scales after a batch, and forgets those after {@code forget}. */
        void record(long batch, float[] scale, long forget);

        /** Whether the tensor's last record had drift true. */
        boolean inEpisode();

        void inEpisode(boolean drifting);
    }

    private static final float[] NO_SCALE = new float[0];

    private final DriftRule rule;
    private final float ratio;
    private final boolean episodeStart;
    private final int channel;
    private final float scaleBefore;
    private final float scaleNow;

    private Drift(
            DriftRule rule,
            float ratio,
            boolean episodeStart,
            int channel,
            float scaleBefore,
            float scaleNow) {
        this.rule = rule;
        this.ratio = ratio;
        this.episodeStart = episodeStart;
        this.channel = channel;
        this.scaleBefore = scaleBefore;
        this.scaleNow = scaleNow;
    }

    /**
     * Records batch {@code batches}' scales in the history and judges them against those {@code
     * window} batches earlier.
     *
     * @param batches the state's batch count after the update (1 for the first batch)
     * @return the verdict, or null when the record carries no drift fields
     */
    public static Drift check(DriftRule rule, long batches, QParams qparams, History history) {
        long earlier = batches - rule.window();
        float[] before = earlier >= 1 ? history.scaleAt(earlier) : null;
        float[] now = qparams.isValid() ? scales(qparams) : NO_SCALE;
        history.record(batches, now, earlier);
        Drift drift = null;
        if (before != null && before.length > 0 && before.length == now.length) {
            int worst = 0;
            float worstRatio = ratio(before[0], now[0]);
            for (int c = 1; c < now.length; c++) {
                float r = ratio(before[c], now[c]);
                if (r > worstRatio
                        || Float.isNaN(worstRatio)) { // NaN (an infinite scale) only if all are
                    worst = c;
                    worstRatio = r;
                }
            }
            boolean drifting = worstRatio > rule.threshold();
            drift =
                    new Drift(
                            rule,
                            worstRatio,
                            drifting && !history.inEpisode(),
                            worst,
                            before[worst],
                            now[worst]);
        }
        boolean drifting = drift != null && drift.drifting();
        if (drifting != history.inEpisode()) {
            history.inEpisode(drifting);
        }
        return drift;
    }

    /** One channel's relative move, as the record writes it. */
    static float ratio(float before, float now) {
        if (before == 0f) {
            return now == 0f ? 0f : Float.POSITIVE_INFINITY;
        }
        return (float) (Math.abs((double) now - (double) before) / Math.abs((double) before));
    }

    private static float[] scales(QParams qparams) {
        float[] s = new float[qparams.size()];
        for (int c = 0; c < s.length; c++) {
            s[c] = qparams.scale(c);
        }
        return s;
    }

    public DriftRule rule() {
        return rule;
    }

    /** The record's {@code drift_ratio}: the largest relative move over the channels. */
    public float ratio() {
        return ratio;
    }

    /** The record's {@code drift}. */
    public boolean drifting() {
        return ratio > rule.threshold();
    }

    /** True for the first record of an episode: it goes to the events topic. */
    public boolean episodeStart() {
        return episodeStart;
    }

    /** The channel that moved most (0 for a per-tensor observer). */
    public int channel() {
        return channel;
    }

    /** That channel's scale {@code window} batches earlier. */
    public float scaleBefore() {
        return scaleBefore;
    }

    /** That channel's scale now. */
    public float scaleNow() {
        return scaleNow;
    }

    /** A history in memory, for one tensor (calibrate, and the tests' replay of the job). */
    public static final class MemoryHistory implements History {
        private final Map<Long, float[]> scales = new HashMap<>();
        private boolean inEpisode;

        @Override
        public float[] scaleAt(long batch) {
            return scales.get(batch);
        }

        @Override
        public void record(long batch, float[] scale, long forget) {
            scales.remove(forget);
            scales.put(batch, scale);
        }

        @Override
        public boolean inEpisode() {
            return inEpisode;
        }

        @Override
        public void inEpisode(boolean drifting) {
            inEpisode = drifting;
        }

        public MemoryHistory copy() {
            MemoryHistory copy = new MemoryHistory();
            copy.scales.putAll(scales);
            copy.inEpisode = inEpisode;
            return copy;
        }
    }
}
