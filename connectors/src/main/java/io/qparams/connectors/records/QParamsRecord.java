package io.qparams.connectors.records;

import io.qparams.observers.ValueCounts;

import java.util.Arrays;

/**
 * A qparams record read back ({@link QParamsRecordDecoder}): the fields of CONTRACT section 3 as
 * values. Per-tensor records hold vectors of length 1; {@link #perChannel()} says which form it
 * had. (A read-back value for tests and tools: its arrays are compared by reference in equals.)
 *
 * @param reason torch's reason when status is "invalid", else null
 * @param averagingConstant null unless the observer is a moving average
 * @param chAxis null unless the observer is per-channel
 * @param scale null when status is "invalid"
 * @param zeroPoint integer zero points, or null (invalid, or float zero points)
 * @param zeroPointFloat float zero points (per_channel_affine_float_qparams), else null
 * @param counts the applied tensor's values, nonfinite and zeros, or null (pre-reduced stats)
 */
public record QParamsRecord(
        String tensor,
        String status,
        String reason,
        String observer,
        String dtype,
        String qscheme,
        long quantMin,
        long quantMax,
        Double averagingConstant,
        Long chAxis,
        long batches,
        float[] minVal,
        float[] maxVal,
        float[] scale,
        long[] zeroPoint,
        float[] zeroPointFloat,
        ValueCounts counts,
        RecordSource source) {

    public boolean isOk() {
        return "ok".equals(status);
    }

    public boolean perChannel() {
        return chAxis != null;
    }

    @Override
    public String toString() {
        return "QParamsRecord{tensor="
                + tensor
                + ", status="
                + status
                + ", observer="
                + observer
                + ", batches="
                + batches
                + ", min_val="
                + Arrays.toString(minVal)
                + ", max_val="
                + Arrays.toString(maxVal)
                + ", scale="
                + Arrays.toString(scale)
                + ", zero_point="
                + (zeroPointFloat != null
                        ? Arrays.toString(zeroPointFloat)
                        : Arrays.toString(zeroPoint))
                + (counts == null ? "" : ", " + counts)
                + ", source="
                + source
                + "}";
    }

    /** The fields as the decoder finds them, in any order. */
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
        ValueCounts counts;
        RecordSource source;

        QParamsRecord build() {
            return new QParamsRecord(
                    tensor,
                    status,
                    reason,
                    observer,
                    dtype,
                    qscheme,
                    quantMin,
                    quantMax,
                    averagingConstant,
                    chAxis,
                    batches,
                    minVal,
                    maxVal,
                    scale,
                    zeroPoint,
                    zeroPointFloat,
                    counts,
                    source);
        }
    }
}
