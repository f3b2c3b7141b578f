package io.qparams.observers;

/**
 * What a decoded batch held, counted in the pass that reduces it (CONTRACT section 3, the record's
 * {@code values}, {@code nonfinite} and {@code zeros}): how many values, how many of them NaN or
 * infinite, how many zero (+0.0 or -0.0), all as the float32 values the observer reduces (an
 * integer or float64 batch after its cast). Counted whatever the non-finite policy then does with
 * the batch. Pre-reduced stats carry no counts.
 *
 * @param values the tensor's element count
 * @param nonFinite how many are NaN, +inf or -inf
 * @param zeros how many are +0.0 or -0.0
 */
public record ValueCounts(long values, long nonFinite, long zeros) {
    /** An empty shard's counts: adding it changes nothing. */
    public static final ValueCounts NONE = new ValueCounts(0, 0, 0);

    public ValueCounts {
        if (values < 0 || nonFinite < 0 || zeros < 0 || nonFinite + zeros > values) {
            throw new IllegalArgumentException(
                    "counts do not fit: "
                            + values
                            + " values, "
                            + nonFinite
                            + " non-finite, "
                            + zeros
                            + " zeros");
        }
    }

    /** The counts of two batches taken as one (a data-parallel step's shards). */
    public ValueCounts plus(ValueCounts other) {
        return new ValueCounts(
                values + other.values, nonFinite + other.nonFinite, zeros + other.zeros);
    }
}
