package io.qparams.connectors.records;

import com.fasterxml.jackson.core.io.NumberInput;
import com.fasterxml.jackson.core.io.schubfach.FloatToDecimal;

/**
 * float32 values as JSON text that gives the exact bits back when read as a double and rounded to
 * float32 (CONTRACT section 3). Non-finite values are the strings "NaN", "Infinity", "-Infinity".
 * The encoders write most floats with {@link ShortestFloat32} instead, straight into their buffer:
 * the same text, checked float by float against {@link #number}.
 */
public final class FloatJson {
    private FloatJson() {}

    /**
     * Biased exponents (the float's bits 23-30) of the floats for which {@link #number} takes the
     * fast path: magnitudes from 2^-125 up to (not including) 2^25, every activation range in
     * practice, except the powers of two (a zero mantissa), where JDK 17 may keep a digit more
     * (1.26217745E-29 for 2^-96, not 1.2621775E-29), and {@link #DOUBLE_ROUNDING_TRAP}. For every
     * other float in it, Schubfach's shortest decimal (Jackson's {@link FloatToDecimal}, the
     * algorithm JDK 19 adopted for Float.toString) equals JDK 17's {@link Float#toString} and
     * survives double-then-float parsing: checked exhaustively on JDK 17.0.15 (FloatJsonTest says
     * how to repeat it). Outside it they differ: from 2^25 up JDK 17 prints every integer digit
     * (3.3555768E7, not 3.355577E7), and at the bottom of the range (2^-126 itself, subnormals) it
     * keeps a digit more.
     */
    static final int FAST_MIN_EXPONENT = 2;

    static final int FAST_MAX_EXPONENT = 151;

    /**
     * The one float (with its negative) in the fast range whose Float.toString text does not
     * survive double-then-float parsing: 7.038531E-26 reads back as the next float up, so the
     * record carries its exact double, 7.038530691851209E-26 (found by the exhaustive check).
     */
    static final int DOUBLE_ROUNDING_TRAP = 0x15ae43fd;

    /**
     * The shortest form Java 17 offers ({@link Float#toString}) when it survives double-then-float
     * parsing (it may not: that is two roundings), else the exact double value of the float. Null
     * for a non-finite value: write {@link #nonFinite} as a string instead. The bytes of every
     * qparams record depend on this text: it must not change.
     */
    public static String number(float f) {
        int bits = Float.floatToRawIntBits(f);
        int exponent = (bits >>> 23) & 0xff;
        if (exponent >= FAST_MIN_EXPONENT
                && exponent <= FAST_MAX_EXPONENT
                && (bits & 0x7fffff) != 0
                && (bits & 0x7fffffff) != DOUBLE_ROUNDING_TRAP) {
            // The same text as below, without the second parse that checks it.
            return FloatToDecimal.toString(f);
        }
        return slowNumber(f);
    }

    /** {@link #number} the long way, for every float: what the fast path was checked against. */
    static String slowNumber(float f) {
        if (!Float.isFinite(f)) {
            return null;
        }
        String shortest = Float.toString(f);
        // Jackson's FastDoubleParser: the same double as Double.parseDouble, faster.
        if (Float.floatToRawIntBits((float) NumberInput.parseDouble(shortest, true))
                == Float.floatToRawIntBits(f)) {
            return shortest;
        }
        return Double.toString(f); // every float is a double exactly
    }

    /** "NaN", "Infinity" or "-Infinity". */
    public static String nonFinite(double f) {
        return Double.isNaN(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity";
    }

    /**
     * Reads back what {@link #number}/{@link #nonFinite} wrote: a number, or one of the three
     * strings.
     */
    public static float parse(Object jsonValue) {
        if (jsonValue instanceof Number number) {
            return (float) number.doubleValue();
        }
        Float nonFinite = jsonValue instanceof String text ? nonFiniteValue(text) : null;
        if (nonFinite == null) {
            throw new IllegalArgumentException("not a float: " + jsonValue);
        }
        return nonFinite;
    }

    /**
     * NaN, +inf or -inf for the strings "NaN", "Infinity", "-Infinity"; null for any other text.
     */
    public static Float nonFiniteValue(String text) {
        return switch (text) {
            case "NaN" -> Float.NaN;
            case "Infinity" -> Float.POSITIVE_INFINITY;
            case "-Infinity" -> Float.NEGATIVE_INFINITY;
            default -> null;
        };
    }
}
