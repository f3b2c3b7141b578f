package io.qparams.observers;

/**
 * The quantized dtypes an observer can target, with torch's default ranges ({@code
 * torch.ao.quantization.utils.calculate_qmin_qmax}).
 */
public enum QuantDtype {
    quint8(0, 255, 0, 127),
    qint8(-128, 127, -64, 63),
    qint32(Integer.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE),
    quint4x2(0, 15, 0, 15),
    uint8(0, 255, 0, 127),
    int8(-128, 127, -64, 63),
    int16(-32768, 32767, -32768, 32767),
    uint16(0, 65535, 0, 65535),
    int32(Integer.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE);

    private final int defaultQuantMin;
    private final int defaultQuantMax;
    private final int reducedQuantMin;
    private final int reducedQuantMax;

    QuantDtype(int defaultQuantMin, int defaultQuantMax, int reducedQuantMin, int reducedQuantMax) {
        this.defaultQuantMin = defaultQuantMin;
        this.defaultQuantMax = defaultQuantMax;
        this.reducedQuantMin = reducedQuantMin;
        this.reducedQuantMax = reducedQuantMax;
    }

    /** torch's default quant_min for this dtype; reduce_range only narrows the 8-bit types. */
    public int defaultQuantMin(boolean reduceRange) {
        return reduceRange ? reducedQuantMin : defaultQuantMin;
    }

    public int defaultQuantMax(boolean reduceRange) {
        return reduceRange ? reducedQuantMax : defaultQuantMax;
    }

    /** quint8 and its newer alias uint8: symmetric schemes put the zero point mid-range. */
    boolean isUnsigned8Bit() {
        return this == quint8 || this == uint8;
    }

    boolean isSigned8Bit() {
        return this == qint8 || this == int8;
    }

    boolean isSigned32Bit() {
        return this == qint32 || this == int32;
    }

    /** Parses a dtype as written in a config ({@code quint8} or {@code torch.quint8}). */
    public static QuantDtype parse(String name) {
        String bare = name.startsWith("torch.") ? name.substring("torch.".length()) : name;
        for (QuantDtype dtype : values()) {
            if (dtype.name().equals(bare)) {
                return dtype;
            }
        }
        throw new InvalidObserverConfigException(
                "dtype '"
                        + name
                        + "': Default Observer only works for qint8, quint8, qint32, quint4x2,"
                        + " uint8, int8, int16, uint16 and int32 data type");
    }

    /** torch's spelling without the {@code torch.} prefix: the constants are named so. */
    @Override
    public String toString() {
        return name();
    }
}
