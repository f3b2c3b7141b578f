package io.qparams.observers;

import java.util.Arrays;

/**
 * The running state of one observer: torch's {@code min_val}/{@code max_val} buffers and the number
 * of batches applied since the start or the last reset. Per-tensor observers hold vectors of length
 * 1 (initially +inf/-inf); per-channel observers hold empty vectors until the first batch.
 *
 * <p>Mutable, owned by one observer; {@link Observer#update} replaces the vectors, never shares
 * them.
 */
public final class ObserverState {
    private static final float[] EMPTY = new float[0];

    float[] minVal;
    float[] maxVal;
    long batches;

    public ObserverState(float[] minVal, float[] maxVal, long batches) {
        if (minVal.length != maxVal.length) {
            throw new IllegalArgumentException(
                    "min_val and max_val differ in length: "
                            + minVal.length
                            + " vs "
                            + maxVal.length);
        }
        this.minVal = minVal;
        this.maxVal = maxVal;
        this.batches = batches;
    }

    /** torch's initial buffers ({@code reset_min_max_vals}). */
    public static ObserverState initial(boolean perChannel) {
        return perChannel
                ? new ObserverState(EMPTY, EMPTY, 0)
                : new ObserverState(
                        new float[] {Float.POSITIVE_INFINITY},
                        new float[] {Float.NEGATIVE_INFINITY},
                        0);
    }

    /** A copy of the min_val vector. */
    public float[] minVal() {
        return minVal.clone();
    }

    /** A copy of the max_val vector. */
    public float[] maxVal() {
        return maxVal.clone();
    }

    /**
     * Number of entries in min_val (1 per-tensor, C per-channel, 0 before a per-channel observer's
     * first batch).
     */
    public int size() {
        return minVal.length;
    }

    public float minVal(int i) {
        return minVal[i];
    }

    public float maxVal(int i) {
        return maxVal[i];
    }

    public long batches() {
        return batches;
    }

    public ObserverState copy() {
        return new ObserverState(minVal.clone(), maxVal.clone(), batches);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ObserverState other)) {
            return false;
        }
        // Bitwise (Arrays.equals on float[] compares floatToIntBits): state equality is exact.
        return batches == other.batches
                && Arrays.equals(minVal, other.minVal)
                && Arrays.equals(maxVal, other.maxVal);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(minVal) + Arrays.hashCode(maxVal))
                + Long.hashCode(batches);
    }

    @Override
    public String toString() {
        return "ObserverState{min_val="
                + Arrays.toString(minVal)
                + ", max_val="
                + Arrays.toString(maxVal)
                + ", batches="
                + batches
                + "}";
    }
}
