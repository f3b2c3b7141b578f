package io.qparams.observers;

/**
 * One configured observer: torch's {@code forward} update and {@code calculate_qparams}, as pure
 * functions of an {@link ObserverState} and a reduced batch. Stateless and thread-safe; the state
 * lives with the caller (Flink keyed state, or the offline calibrator).
 *
 * <p>The four observers of {@code torch.ao.quantization.observer} ({@link ObserverKind}) differ
 * only in {@link #update}: a running min/max or a moving average, per tensor or per channel. They
 * share {@link #calculateQParams}. The names below are torch's ({@code min_val}, {@code max_val},
 * {@code quant_min}, {@code quant_max}, {@code averaging_constant}, {@code eps}, {@code ch_axis}),
 * so this class and {@code observer.py} can be read side by side.
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
     * torch's {@code forward(x)}: applies one batch, already reduced to its {@code torch.aminmax}
     * ({@code min_val_cur}, {@code max_val_cur}: one entry for the whole tensor, or one per channel
     * along {@code ch_axis}, see {@link BatchReducer}), to the state. Elementwise, each operation a
     * float32 operation in torch's order:
     *
     * <pre>{@code
     * MinMaxObserver, PerChannelMinMaxObserver (running min/max):
     *     min_val = torch.min(min_val_cur, min_val)
     *     max_val = torch.max(max_val_cur, max_val)
     *
     * MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver:
     *     min_val = min_val + averaging_constant * (min_val_cur - min_val)
     *     max_val = max_val + averaging_constant * (max_val_cur - max_val)
     * }</pre>
     *
     * <ul>
     *   <li>The moving average is three float32 roundings in exactly that order: {@code cur - old},
     *       then {@code c * (cur - old)}, then {@code old + c * (cur - old)}, with {@code c =
     *       (float) averaging_constant}. Not {@code (1 - c) * old + c * cur}, not in double, no
     *       fused multiply-add ({@code TorchMath.movingAverage}). So {@code averaging_constant =
     *       1.0} does not simply take the batch: from {@code min_val = 1e8} and a batch min of 1,
     *       {@code 1e8 + 1 * (1 - 1e8)} is 0 in float32.
     *   <li>The first batch is taken as it is: by both per-channel observers while their vectors
     *       are still empty (the first batch sets the channel count), by the per-tensor moving
     *       average while its state is exactly torch's initial {@code (min_val, max_val) = (+inf,
     *       -inf)}. The per-tensor running min/max needs no special case: against {@code
     *       +inf}/{@code -inf} it gives the batch itself.
     *   <li>NaN in either operand gives NaN ({@code torch.min}/{@code torch.max} propagate it, as
     *       {@code Math.min}/{@code Math.max} do), and stays until {@link #reset}. In a moving
     *       average an infinite {@code min_val} or {@code max_val} becomes NaN at the next batch
     *       ({@code -inf + c * (cur - -inf)}). Which batches may hold NaN or infinities at all is
     *       the non-finite policy's decision, taken before this method ({@link NonFinitePolicy}).
     *   <li>{@code batches} counts the batches applied since the start or the last reset.
     * </ul>
     *
     * <p>The state is untouched when the batch is refused.
     *
     * @param state the observer's state, updated in place (its vectors are replaced, never shared)
     * @param batch the batch's {@code min_val_cur}/{@code max_val_cur}
     * @throws InvalidBatchException if the batch is of the wrong family (per-tensor stats for a
     *     per-channel observer or the reverse), or a per-channel batch's channel count differs from
     *     the state's (torch raises, or silently broadcasts when one side has one channel; we
     *     refuse both: reset the observer to change the channel count), or a per-tensor observer
     *     finds a per-channel state (a tensor's rule changed across a savepoint restore)
     */
    public void update(ObserverState state, BatchMinMax batch) throws InvalidBatchException {
        if (batch.isPerChannel() != spec.isPerChannel()) {
            throw new InvalidBatchException(
                    spec.isPerChannel()
                            ? "per-tensor stats for per-channel observer "
                                    + spec.kind()
                                    + " (expected one min/max per channel)"
                            : "per-channel stats for per-tensor observer "
                                    + spec.kind()
                                    + " (expected scalar min/max)");
        }
        int n = batch.size();
        if (!spec.isPerChannel() && state.minVal.length != 1) {
            // A per-channel state restored under a rule that is now per-tensor (from a savepoint).
            throw new InvalidBatchException(
                    "the state holds "
                            + state.minVal.length
                            + " channels of a per-channel observer, not one per-tensor min/max for "
                            + spec.kind()
                            + " (reset the observer to change it)");
        }
        if (spec.isPerChannel() && state.minVal.length != 0 && state.minVal.length != n) {
            throw new InvalidBatchException(
                    "channel count changed from "
                            + state.minVal.length
                            + " to "
                            + n
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
     * the per-tensor moving average while its state is exactly (+inf, -inf). (MinMaxObserver needs
     * no special case: min/max against +inf/-inf is the batch itself.)
     */
    private boolean adoptsBatch(ObserverState state) {
        if (spec.isPerChannel()) {
            return state.minVal.length == 0;
        }
        return spec.kind().isMovingAverage()
                && state.minVal[0] == Float.POSITIVE_INFINITY
                && state.maxVal[0] == Float.NEGATIVE_INFINITY;
    }

    /**
     * torch's {@code calculate_qparams()}, that is {@code _calculate_qparams(min_val, max_val)}:
     * one {@code scale} and {@code zero_point} per entry of the state (one per tensor, or per
     * channel). {@code quant_min} and {@code quant_max} are the effective range of {@link
     * ObserverSpec#quantMin()} and {@link ObserverSpec#quantMax()}: torch's default for the dtype,
     * or the custom range when both bounds are given, with {@code reduce_range} already applied
     * (the 8-bit defaults halved, a custom range floor-halved); {@code reduce_range} enters the
     * formulas only that way. {@code eps} is the float32 {@link ObserverSpec#epsFloat()}. Each
     * operation is a float32 operation in torch's order:
     *
     * <pre>{@code
     * min_val_neg = torch.min(min_val, 0)
     * max_val_pos = torch.max(max_val, 0)
     *
     * per_tensor_affine, per_channel_affine:
     *     scale      = (max_val_pos - min_val_neg) / float(quant_max - quant_min)
     *     scale      = torch.max(scale, eps)
     *     zero_point = quant_min - torch.round(min_val_neg / scale).to(torch.int)
     *     zero_point = torch.clamp(zero_point, quant_min, quant_max)
     *
     * per_tensor_symmetric, per_channel_symmetric:
     *     max_val_pos = torch.max(-min_val_neg, max_val_pos)
     *     scale       = max_val_pos / (float(quant_max - quant_min) / 2)
     *     scale       = torch.max(scale, eps)
     *     zero_point  = quint8, uint8: 128, or (quant_min + quant_max) // 2 with a custom range
     *                   uint16: 32768
     *                   every other dtype: 0
     *
     * per_channel_affine_float_qparams (on the raw min_val, max_val):
     *     scale      = (max_val - min_val) / float(quant_max - quant_min)
     *     scale      = torch.where(scale > eps, scale, 1.0)
     *     zero_point = -1 * min_val / scale            (a float32, possibly -0.0)
     * }</pre>
     *
     * <ul>
     *   <li>{@code float(quant_max - quant_min)} is rounded to float32 before it divides: 2^32 - 1
     *       for qint32 becomes {@code 4294967296f}. The symmetric divisor is the halved range
     *       computed in double, then rounded to float32.
     *   <li>{@code torch.max(scale, eps)} lets NaN through. A range of zero is not special-cased
     *       (torch's doc page says otherwise; torch does not): a constant 0 gives {@code scale =
     *       eps} and {@code zero_point = quant_min}; a constant 3.0 gives {@code scale = 3/255} and
     *       {@code zero_point = 0} for quint8, a constant -3.0 gives {@code zero_point = 255}. With
     *       qint32 and the default eps, the scale is almost always clamped to eps.
     *   <li>{@code torch.round} rounds half to even ({@code Math.rint}, never {@code Math.round}):
     *       the batch [-1, 101] gives {@code min_val_neg / scale = -2.5} exactly and {@code
     *       zero_point = 2}, not 3.
     *   <li>{@code .to(torch.int)} is x86's truncating conversion: NaN, or a value outside the
     *       int32 range, gives {@code Integer.MIN_VALUE} (Java's cast would give 0 or saturate;
     *       {@code TorchMath.roundToInt32} emulates x86). {@code quant_min - ...} wraps in 32 bits,
     *       then {@code torch.clamp} brings it into [quant_min, quant_max].
     *   <li>Before any data (the per-tensor state still {@code (+inf, -inf)}, the per-channel
     *       vectors still empty), torch's {@code check_min_max_valid} fails and torch returns its
     *       defaults, {@code scale = [1.0]} and {@code zero_point = [0]}; for {@code
     *       per_channel_affine_float_qparams} the zero point here is the float {@code [0.0]}
     *       (torch's int64 {@code [0]}, equal in value).
     *   <li>A state with {@code min_val > max_val}, or NaN, in any entry makes torch raise ({@code
     *       "min ... should be less than max ..."}); the result is then {@link QParams#isValid()
     *       invalid} with that message, and the qparams record says {@code "status": "invalid"}.
     * </ul>
     *
     * @param state the observer's state (not changed)
     * @return the scale and zero point per entry, or an invalid result with torch's reason
     */
    public QParams calculateQParams(ObserverState state) {
        float[] minVal = state.minVal;
        float[] maxVal = state.maxVal;
        // check_min_max_valid: before any data, torch's defaults.
        if (minVal.length == 0
                || (!spec.isPerChannel()
                        && minVal[0] == Float.POSITIVE_INFINITY
                        && maxVal[0] == Float.NEGATIVE_INFINITY)) {
            return spec.qscheme() == QScheme.per_channel_affine_float_qparams
                    ? QParams.ofFloat(new float[] {1.0f}, new float[] {0.0f})
                    : QParams.ofInt(new float[] {1.0f}, new int[] {0});
        }
        for (int i = 0; i < minVal.length; i++) {
            if (!(minVal[i] <= maxVal[i])) {
                return QParams.invalid(
                        spec.isPerChannel()
                                ? "min "
                                        + formatVector(minVal)
                                        + " should be less than max "
                                        + formatVector(maxVal)
                                : "min " + minVal[0] + " should be less than max " + maxVal[0]);
            }
        }
        int n = minVal.length;
        float eps = spec.epsFloat();
        int quantMin = spec.quantMin();
        int quantMax = spec.quantMax();
        float[] scale = new float[n];
        switch (spec.qscheme()) {
            case per_channel_affine_float_qparams:
                {
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
            case per_channel_symmetric:
                {
                    // float(quant_max - quant_min) / 2 in double, then the scalar is taken as
                    // float32.
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
            default:
                {
                    float range = (float) ((long) quantMax - quantMin);
                    int[] zeroPoint = new int[n];
                    for (int i = 0; i < n; i++) {
                        float minNeg = Math.min(minVal[i], 0.0f);
                        float maxPos = Math.max(maxVal[i], 0.0f);
                        float s = Math.max((maxPos - minNeg) / range, eps);
                        scale[i] = s;
                        int zp =
                                quantMin
                                        - TorchMath.roundToInt32(
                                                minNeg / s); // int32 subtraction wraps, as in torch
                        zeroPoint[i] = TorchMath.clamp(zp, quantMin, quantMax);
                    }
                    return QParams.ofInt(scale, zeroPoint);
                }
        }
    }

    /** Symmetric schemes: mid-range for the unsigned types, 0 for the signed ones. */
    private int symmetricZeroPoint() {
        if (spec.dtype().isUnsigned8Bit()) {
            return spec.hasCustomizedQrange()
                    ? Math.floorDiv(spec.quantMin() + spec.quantMax(), 2)
                    : 128;
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
