package io.qparams.observers;

/**
 * {@code x.to(torch.float32)} for the element types a batch may arrive in: round to nearest even,
 * overflow to infinity, subnormals kept. Java's primitive conversions already do this for double,
 * long and int; float16 and the unsigned types need a hand.
 */
public final class Casts {
    private Casts() {}

    /** IEEE 754 binary16 bits to float32: exact (every half is a float). */
    public static float float16ToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // zero or subnormal: mantissa * 2^-24, exact in float32
            float magnitude = mantissa * 0x1.0p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    /** An unsigned 32-bit value (held in an int) to float32, rounded to nearest. */
    public static float uint32ToFloat(int bits) {
        return (float) Integer.toUnsignedLong(bits);
    }

    /** float64 to float32: round to nearest, 1e300 becomes +inf. */
    public static float float64ToFloat(double x) {
        return (float) x;
    }

    /** int64 to float32: round to nearest. */
    public static float int64ToFloat(long x) {
        return (float) x;
    }
}
