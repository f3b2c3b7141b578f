package io.qparams.observers;

import java.util.Objects;

/**
 * One observer's constructor arguments, validated as torch's constructors validate them ({@code
 * UniformQuantizationObserverBase.__init__}, {@code calculate_qmin_qmax}), with the effective
 * {@code quant_min}/{@code quant_max} resolved. Immutable.
 */
public final class ObserverSpec {
    /** {@code torch.finfo(torch.float32).eps}, the default {@code eps}. */
    public static final double DEFAULT_EPS = 0x1.0p-23;

    public static final double DEFAULT_AVERAGING_CONSTANT = 0.01;

    private final ObserverKind kind;
    private final QuantDtype dtype;
    private final QScheme qscheme;
    private final boolean reduceRange;
    private final boolean hasCustomizedQrange;
    private final int quantMin;
    private final int quantMax;
    private final double eps;
    private final double averagingConstant;
    private final int chAxis;

    private ObserverSpec(Builder b) {
        this.kind = b.kind;
        this.dtype = b.dtype;
        this.qscheme = b.qscheme;
        this.reduceRange = b.reduceRange;
        this.eps = b.eps;
        this.averagingConstant = b.averagingConstant;
        this.chAxis = b.chAxis;
        this.hasCustomizedQrange = b.quantMin != null && b.quantMax != null;

        // Each observer's constructor refuses a qscheme of the other family before anything else.
        if (kind.isPerChannel() && !qscheme.isPerChannel()) {
            throw new InvalidObserverConfigException(
                    kind.name()
                            + "'s qscheme only support torch.per_channel_symmetric,"
                            + " torch.per_channel_affine and"
                            + " torch.per_channel_affine_float_qparams.");
        }
        if (!kind.isPerChannel() && qscheme.isPerChannel()) {
            throw new InvalidObserverConfigException(
                    kind.name()
                            + "'s qscheme only support torch.per_tensor_symmetric and"
                            + " torch.per_tensor_affine.");
        }
        if (hasCustomizedQrange) {
            long qmin = b.quantMin;
            long qmax = b.quantMax;
            if (!(qmin <= 0 && 0 <= qmax)) {
                throw new InvalidObserverConfigException(
                        "Used-specified quantization range must include 0.");
            }
            if (!(qmin < qmax)) {
                throw new InvalidObserverConfigException(
                        "qmin must be strictly less than qmax for user-specified quantization"
                                + " range.");
            }
            long qrangeLen = qmax - qmin + 1;
            if (dtype.isSigned8Bit() && !(0 < qrangeLen && qrangeLen <= 256)) {
                throw new InvalidObserverConfigException(
                        "quantization range should be positive and not exceed the maximum bit range"
                                + " (=256).");
            }
            if (dtype.isSigned32Bit() && !(0 < qrangeLen && qrangeLen <= (1L << 31))) {
                throw new InvalidObserverConfigException(
                        "quantization range should be positive and not exceed the maximum bit range"
                                + " (=4294967296).");
            }
            // Python's // floors: (-5, 10) with reduce_range gives (-3, 5).
            this.quantMin = reduceRange ? Math.floorDiv(b.quantMin, 2) : b.quantMin;
            this.quantMax = reduceRange ? Math.floorDiv(b.quantMax, 2) : b.quantMax;
        } else {
            this.quantMin = dtype.defaultQuantMin(reduceRange);
            this.quantMax = dtype.defaultQuantMax(reduceRange);
        }
        if (qscheme.isSymmetric() && reduceRange && dtype == QuantDtype.quint8) {
            throw new InvalidObserverConfigException(
                    "Cannot reduce range for symmetric quantization for quint8");
        }
    }

    public static Builder builder(ObserverKind kind) {
        return new Builder(kind);
    }

    public ObserverKind kind() {
        return kind;
    }

    public QuantDtype dtype() {
        return dtype;
    }

    public QScheme qscheme() {
        return qscheme;
    }

    public boolean reduceRange() {
        return reduceRange;
    }

    public boolean hasCustomizedQrange() {
        return hasCustomizedQrange;
    }

    /** The effective quant_min, after defaults and reduce_range. */
    public int quantMin() {
        return quantMin;
    }

    /** The effective quant_max, after defaults and reduce_range. */
    public int quantMax() {
        return quantMax;
    }

    /**
     * eps as configured (a double); torch keeps it as a float32 tensor, see {@link #epsFloat()}.
     */
    public double eps() {
        return eps;
    }

    public float epsFloat() {
        return (float) eps;
    }

    /**
     * averaging_constant as configured; torch's float32 arithmetic uses it rounded, see {@link
     * #averagingConstantFloat()}.
     */
    public double averagingConstant() {
        return averagingConstant;
    }

    public float averagingConstantFloat() {
        return (float) averagingConstant;
    }

    /**
     * ch_axis as configured (negative counts from the last axis); meaningful for per-channel
     * observers only.
     */
    public int chAxis() {
        return chAxis;
    }

    public boolean isPerChannel() {
        return kind.isPerChannel();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ObserverSpec other)) {
            return false;
        }
        return kind == other.kind
                && dtype == other.dtype
                && qscheme == other.qscheme
                && reduceRange == other.reduceRange
                && hasCustomizedQrange == other.hasCustomizedQrange
                && quantMin == other.quantMin
                && quantMax == other.quantMax
                && Double.compare(eps, other.eps) == 0
                && Double.compare(averagingConstant, other.averagingConstant) == 0
                && chAxis == other.chAxis;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                kind,
                dtype,
                qscheme,
                reduceRange,
                hasCustomizedQrange,
                quantMin,
                quantMax,
                eps,
                averagingConstant,
                chAxis);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(kind.name()).append("(");
        if (kind.isMovingAverage()) {
            s.append("averaging_constant=").append(averagingConstant).append(", ");
        }
        if (kind.isPerChannel()) {
            s.append("ch_axis=").append(chAxis).append(", ");
        }
        return s.append("dtype=")
                .append(dtype)
                .append(", qscheme=")
                .append(qscheme)
                .append(", reduce_range=")
                .append(reduceRange)
                .append(", quant_min=")
                .append(quantMin)
                .append(", quant_max=")
                .append(quantMax)
                .append(", eps=")
                .append(eps)
                .append(")")
                .toString();
    }

    /** Keyword arguments with torch's names and defaults. */
    public static final class Builder {
        private final ObserverKind kind;
        private QuantDtype dtype = QuantDtype.quint8;
        private QScheme qscheme;
        private boolean reduceRange;
        private Integer quantMin;
        private Integer quantMax;
        private double eps = DEFAULT_EPS;
        private double averagingConstant = DEFAULT_AVERAGING_CONSTANT;
        private int chAxis = 0;

        private Builder(ObserverKind kind) {
            this.kind = Objects.requireNonNull(kind, "kind");
            this.qscheme = kind.defaultQScheme();
        }

        public Builder dtype(QuantDtype dtype) {
            this.dtype = Objects.requireNonNull(dtype, "dtype");
            return this;
        }

        public Builder qscheme(QScheme qscheme) {
            this.qscheme = Objects.requireNonNull(qscheme, "qscheme");
            return this;
        }

        public Builder reduceRange(boolean reduceRange) {
            this.reduceRange = reduceRange;
            return this;
        }

        /** A custom range is used only when both bounds are given (null = torch's None). */
        public Builder quantMin(Integer quantMin) {
            this.quantMin = quantMin;
            return this;
        }

        public Builder quantMax(Integer quantMax) {
            this.quantMax = quantMax;
            return this;
        }

        public Builder eps(double eps) {
            this.eps = eps;
            return this;
        }

        /** Not validated, as in torch: any value torch takes gives torch's numbers. */
        public Builder averagingConstant(double averagingConstant) {
            this.averagingConstant = averagingConstant;
            return this;
        }

        public Builder chAxis(int chAxis) {
            this.chAxis = chAxis;
            return this;
        }

        /**
         * @throws InvalidObserverConfigException with torch's reason when torch's constructor would
         *     raise
         */
        public ObserverSpec build() {
            return new ObserverSpec(this);
        }
    }
}
