package io.qparams.observers;

import java.util.Arrays;

/**
 * The result of {@code calculate_qparams}: one scale and zero point per channel (one for per-tensor
 * observers). For {@code per_channel_affine_float_qparams} the zero points are floats. When torch
 * would raise (a NaN state, or min_val > max_val) the result is invalid, with torch's reason.
 */
public final class QParams {
    private final float[] scale;
    private final int[] zeroPoint;
    private final float[] zeroPointFloat;
    private final String invalidReason;

    private QParams(float[] scale, int[] zeroPoint, float[] zeroPointFloat, String invalidReason) {
        this.scale = scale;
        this.zeroPoint = zeroPoint;
        this.zeroPointFloat = zeroPointFloat;
        this.invalidReason = invalidReason;
    }

    static QParams ofInt(float[] scale, int[] zeroPoint) {
        return new QParams(scale, zeroPoint, null, null);
    }

    static QParams ofFloat(float[] scale, float[] zeroPoint) {
        return new QParams(scale, null, zeroPoint, null);
    }

    static QParams invalid(String reason) {
        return new QParams(null, null, null, reason);
    }

    public boolean isValid() {
        return invalidReason == null;
    }

    /** torch's error message when it would raise; null when valid. */
    public String invalidReason() {
        return invalidReason;
    }

    public int size() {
        return scale.length;
    }

    public float scale(int i) {
        return scale[i];
    }

    /** True for per_channel_affine_float_qparams, whose zero points are floats. */
    public boolean hasFloatZeroPoint() {
        return zeroPointFloat != null;
    }

    public int zeroPoint(int i) {
        return zeroPoint[i];
    }

    public float zeroPointFloat(int i) {
        return zeroPointFloat[i];
    }

    @Override
    public String toString() {
        if (!isValid()) {
            return "QParams{invalid: " + invalidReason + "}";
        }
        return "QParams{scale="
                + Arrays.toString(scale)
                + ", zero_point="
                + (zeroPoint != null ? Arrays.toString(zeroPoint) : Arrays.toString(zeroPointFloat))
                + "}";
    }
}
