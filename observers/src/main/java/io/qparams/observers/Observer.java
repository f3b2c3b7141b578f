package io.qparams.observers;

/**
 * One configured observer: torch's {@code forward} update and {@code calculate_qparams}, as pure
 * functions of an {@link ObserverState} and a reduced batch. Stateless and thread-safe; the state
 * lives with the caller (Flink keyed state, or the offline calibrator).
 */
public final class Observer {
    private final ObserverSpec spec;

    public Observer(ObserverSpec spec) {
        this.spec = spec;
    }

    public ObserverSpec spec() {
        return spec;
    }

    public ObserverState initialState() {
        return ObserverState.initial(spec.isPerChannel());
    }

    /** torch's {@code reset_min_max_vals}, and the batch count restarts. */
    public void reset(ObserverState state) {
        ObserverState initial = initialState();
        state.minVal = initial.minVal;
        state.maxVal = initial.maxVal;
        state.batches = 0;
    }

    /**
     * Applies one reduced batch. The state is untouched when the batch is refused.
     *
     * @throws InvalidBatchException if the batch is of the wrong family (per-tensor vs per-channel)
     *     or its channel count differs from the state's (torch would broadcast; we refuse)
     */
    public void update(ObserverState state, BatchMinMax batch) throws InvalidBatchException {
        if (batch.isPerChannel() != spec.isPerChannel()) {
            throw new InvalidBatchException(spec.isPerChannel()
                    ? "per-tensor stats for per-channel observer " + spec.kind() + " (expected one min/max per channel)"
                    : "per-channel stats for per-tensor observer " + spec.kind() + " (expected scalar min/max)");
        }
        int n = batch.size();
        if (spec.isPerChannel() && state.minVal.length != 0 && state.minVal.length != n) {
            throw new InvalidBatchException("channel count changed from " + state.minVal.length + " to " + n
                    + " (reset the observer to change it)");
        }
        float[] newMin = new float[n];
        float[] newMax = new float[n];
        if (adoptsBatch(state)) {
            for (int i = 0; i < n; i++) {
                newMin[i] = batch.min(i);
                newMax[i] = batch.max(i);
            }
        } else if (spec.kind().isMovingAverage()) {
            float c = spec.averagingConstantFloat();
            for (int i = 0; i < n; i++) {
                newMin[i] = TorchMath.movingAverage(state.minVal[i], batch.min(i), c);
                newMax[i] = TorchMath.movingAverage(state.maxVal[i], batch.max(i), c);
            }
        } else {
            for (int i = 0; i < n; i++) {
                // torch.min / torch.max of two tensors: NaN in either gives NaN, as Math.min/max.
                newMin[i] = Math.min(batch.min(i), state.minVal[i]);
                newMax[i] = Math.max(batch.max(i), state.maxVal[i]);
            }
        }
        state.minVal = newMin;
        state.maxVal = newMax;
        state.batches++;
    }

    /**
     * Whether the first batch is taken as is: per-channel observers while their vectors are empty,
     * the per-tensor moving average while its state is exactly (+inf, -inf). (MinMaxObserver needs no
     * special case: min/max against +inf/-inf is the batch itself.)
     */
    private boolean adoptsBatch(ObserverState state) {
        if (spec.isPerChannel()) {
            return state.minVal.length == 0;
        }
        return spec.kind().isMovingAverage()
                && state.minVal[0] == Float.POSITIVE_INFINITY && state.maxVal[0] == Float.NEGATIVE_INFINITY;
    }

    /** torch's {@code _calculate_qparams(min_val, max_val)}, float32 arithmetic in torch's order. */
    public QParams calculateQParams(ObserverState state) {
        float[] minVal = state.minVal;
        float[] maxVal = state.maxVal;
        // check_min_max_valid: before any data, torch's defaults.
        if (minVal.length == 0
                || (!spec.isPerChannel() && minVal[0] == Float.POSITIVE_INFINITY && maxVal[0] == Float.NEGATIVE_INFINITY)) {
            return spec.qscheme() == QScheme.per_channel_affine_float_qparams
                    ? QParams.ofFloat(new float[] {1.0f}, new float[] {0.0f})
                    : QParams.ofInt(new float[] {1.0f}, new int[] {0});
        }
        for (int i = 0; i < minVal.length; i++) {
            if (!(minVal[i] <= maxVal[i])) {
                return QParams.invalid(spec.isPerChannel()
                        ? "min " + formatVector(minVal) + " should be less than max " + formatVector(maxVal)
                        : "min " + minVal[0] + " should be less than max " + maxVal[0]);
            }
        }
        int n = minVal.length;
        float eps = spec.epsFloat();
        int quantMin = spec.quantMin();
        int quantMax = spec.quantMax();
        float[] scale = new float[n];
        switch (spec.qscheme()) {
            case per_channel_affine_float_qparams: {
                float range = (float) ((long) quantMax - quantMin);
                float[] zeroPoint = new float[n];
                for (int i = 0; i < n; i++) {
                    float s = (maxVal[i] - minVal[i]) / range;
                    s = s > eps ? s : 1.0f;
                    scale[i] = s;
                    zeroPoint[i] = (-1 * minVal[i]) / s;
                }
                return QParams.ofFloat(scale, zeroPoint);
            }
            case per_tensor_symmetric:
            case per_channel_symmetric: {
                // float(quant_max - quant_min) / 2 in double, then the scalar is taken as float32.
                float halfRange = (float) ((double) ((long) quantMax - quantMin) / 2);
                int zp = symmetricZeroPoint();
                int[] zeroPoint = new int[n];
                for (int i = 0; i < n; i++) {
                    float minNeg = Math.min(minVal[i], 0.0f);
                    float maxPos = Math.max(maxVal[i], 0.0f);
                    float absMax = Math.max(-minNeg, maxPos);
                    scale[i] = Math.max(absMax / halfRange, eps);
                    zeroPoint[i] = zp;
                }
                return QParams.ofInt(scale, zeroPoint);
            }
            default: {
                float range = (float) ((long) quantMax - quantMin);
                int[] zeroPoint = new int[n];
                for (int i = 0; i < n; i++) {
                    float minNeg = Math.min(minVal[i], 0.0f);
                    float maxPos = Math.max(maxVal[i], 0.0f);
                    float s = Math.max((maxPos - minNeg) / range, eps);
                    scale[i] = s;
                    int zp = quantMin - TorchMath.roundToInt32(minNeg / s); // int32 subtraction wraps, as in torch
                    zeroPoint[i] = TorchMath.clamp(zp, quantMin, quantMax);
                }
                return QParams.ofInt(scale, zeroPoint);
            }
        }
    }

    /** Symmetric schemes: mid-range for the unsigned types, 0 for the signed ones. */
    private int symmetricZeroPoint() {
        if (spec.dtype().isUnsigned8Bit()) {
            return spec.hasCustomizedQrange() ? Math.floorDiv(spec.quantMin() + spec.quantMax(), 2) : 128;
        }
        if (spec.dtype() == QuantDtype.uint16) {
            return 1 << 15;
        }
        return 0;
    }

    private static String formatVector(float[] v) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            s.append(i == 0 ? "" : ", ").append(v[i]);
        }
        return s.append("]").toString();
    }
}
