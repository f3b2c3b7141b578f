package io.qparams.observers;

import java.util.Arrays;

/**
 * One batch reduced to what an observer needs: {@code torch.aminmax} of the whole tensor (vectors
 * of length 1) or of each channel row (length C). This, not the tensor, is what crosses the network
 * in the streaming job, and what pre-reduced JSON stats decode to. A decoded tensor also carries
 * what it held ({@link ValueCounts}) for the record; the counts are not part of equality (they do
 * not change what the batch does to an observer).
 */
public final class BatchMinMax {
    private final float[] min;
    private final float[] max;
    private final boolean perChannel;
    private final ValueCounts counts;

    private BatchMinMax(float[] min, float[] max, boolean perChannel) {
        this(min, max, perChannel, null);
    }

    private BatchMinMax(float[] min, float[] max, boolean perChannel, ValueCounts counts) {
        this.min = min;
        this.max = max;
        this.perChannel = perChannel;
        this.counts = counts;
    }

    /** The same batch, carrying what its tensor held (null: nothing known, as for stats). */
    public BatchMinMax withCounts(ValueCounts counts) {
        return new BatchMinMax(min, max, perChannel, counts);
    }

    /** What the decoded tensor held, or null for pre-reduced stats. */
    public ValueCounts counts() {
        return counts;
    }

    public static BatchMinMax perTensor(float min, float max) {
        return new BatchMinMax(new float[] {min}, new float[] {max}, false);
    }

    /** Takes ownership of the arrays. */
    public static BatchMinMax perChannel(float[] min, float[] max) {
        if (min.length != max.length) {
            throw new IllegalArgumentException(
                    "min and max differ in length: " + min.length + " vs " + max.length);
        }
        return new BatchMinMax(min, max, true);
    }

    /**
     * Pre-reduced stats as a producer sends them: refused when min > max (NaN is not refused here:
     * the non-finite policy decides), or when the vectors differ in length or are empty.
     */
    public static BatchMinMax ofStats(float[] min, float[] max, boolean perChannel)
            throws InvalidBatchException {
        if (min.length != max.length) {
            throw new InvalidBatchException(
                    "stats min has " + min.length + " entries but max has " + max.length);
        }
        if (min.length == 0) {
            throw new InvalidBatchException("stats min and max are empty");
        }
        if (!perChannel && min.length != 1) {
            throw new InvalidBatchException(
                    "per-tensor stats must be scalars, got vectors of length " + min.length);
        }
        for (int c = 0; c < min.length; c++) {
            if (min[c] > max[c]) {
                throw new InvalidBatchException(
                        perChannel
                                ? "stats min > max in channel "
                                        + c
                                        + " ("
                                        + min[c]
                                        + " > "
                                        + max[c]
                                        + ")"
                                : "stats min > max (" + min[c] + " > " + max[c] + ")");
            }
        }
        return new BatchMinMax(min.clone(), max.clone(), perChannel);
    }

    public boolean isPerChannel() {
        return perChannel;
    }

    /** 1 for a per-tensor batch, C for a per-channel one. */
    public int size() {
        return min.length;
    }

    public float min(int i) {
        return min[i];
    }

    public float max(int i) {
        return max[i];
    }

    /** Copies of the vectors. */
    public float[] min() {
        return min.clone();
    }

    public float[] max() {
        return max.clone();
    }

    /**
     * Applies the non-finite policy to an already reduced batch: under {@code reject}, refuses it
     * when any entry is NaN or infinite. ({@code ignore} is applied while reducing, where the
     * finite values are still known; on stats it refuses non-finite entries like {@code reject}.)
     */
    public BatchMinMax checkFinite(NonFinitePolicy policy) throws InvalidBatchException {
        if (policy == NonFinitePolicy.PROPAGATE) {
            return this;
        }
        for (int c = 0; c < min.length; c++) {
            if (!Float.isFinite(min[c]) || !Float.isFinite(max[c])) {
                String what =
                        Float.isNaN(min[c]) || Float.isNaN(max[c]) ? "NaN" : "infinite values";
                throw InvalidBatchException.nonFinite(
                        "batch holds "
                                + what
                                + (perChannel ? " in channel " + c : "")
                                + " (nonfinite: "
                                + policy.configName()
                                + ")");
            }
        }
        return this;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof BatchMinMax other)) {
            return false;
        }
        return perChannel == other.perChannel
                && Arrays.equals(min, other.min)
                && Arrays.equals(max, other.max);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(min) + Arrays.hashCode(max);
    }

    @Override
    public String toString() {
        return perChannel
                ? "BatchMinMax{min=" + Arrays.toString(min) + ", max=" + Arrays.toString(max) + "}"
                : "BatchMinMax{min=" + min[0] + ", max=" + max[0] + "}";
    }
}
