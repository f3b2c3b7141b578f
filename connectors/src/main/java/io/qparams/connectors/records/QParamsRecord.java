package io.qparams.connectors.records;

import java.util.Arrays;

/**
 * A qparams record read back ({@link QParamsRecordDecoder}): the fields of CONTRACT section 3 as
 * values. Per-tensor records hold vectors of length 1; {@link #perChannel()} says which form it had.
 */
public final class QParamsRecord {
    public final String tensor;
    public final String status;
    /** torch's reason when status is "invalid", else null. */
    public final String reason;
    public final String observer;
    public final String dtype;
    public final String qscheme;
    public final long quantMin;
    public final long quantMax;
    /** Null unless the observer is a moving average. */
    public final Double averagingConstant;
    /** Null unless the observer is per-channel. */
    public final Long chAxis;
    public final long batches;
    public final float[] minVal;
    public final float[] maxVal;
    /** Null when status is "invalid". */
    public final float[] scale;
    /** Integer zero points, or null (invalid, or float zero points). */
    public final long[] zeroPoint;
    /** Float zero points (per_channel_affine_float_qparams), else null. */
    public final float[] zeroPointFloat;
    public final RecordSource source;

    QParamsRecord(Builder b) {
        this.tensor = b.tensor;
        this.status = b.status;
        this.reason = b.reason;
        this.observer = b.observer;
        this.dtype = b.dtype;
        this.qscheme = b.qscheme;
        this.quantMin = b.quantMin;
        this.quantMax = b.quantMax;
        this.averagingConstant = b.averagingConstant;
        this.chAxis = b.chAxis;
        this.batches = b.batches;
        this.minVal = b.minVal;
        this.maxVal = b.maxVal;
        this.scale = b.scale;
        this.zeroPoint = b.zeroPoint;
        this.zeroPointFloat = b.zeroPointFloat;
        this.source = b.source;
    }

    public boolean isOk() {
        return "ok".equals(status);
    }

    public boolean perChannel() {
        return chAxis != null;
    }

    @Override
    public String toString() {
        return "QParamsRecord{tensor=" + tensor + ", status=" + status + ", observer=" + observer + ", batches="
                + batches + ", min_val=" + Arrays.toString(minVal) + ", max_val=" + Arrays.toString(maxVal)
                + ", scale=" + Arrays.toString(scale) + ", zero_point="
                + (zeroPointFloat != null ? Arrays.toString(zeroPointFloat) : Arrays.toString(zeroPoint))
                + ", source=" + source + "}";
    }

    static final class Builder {
        String tensor;
        String status;
        String reason;
        String observer;
        String dtype;
        String qscheme;
        long quantMin;
        long quantMax;
        Double averagingConstant;
        Long chAxis;
        long batches;
        float[] minVal;
        float[] maxVal;
        float[] scale;
        long[] zeroPoint;
        float[] zeroPointFloat;
        RecordSource source;
    }
}
