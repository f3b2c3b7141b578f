package io.qparams.connectors.records;

import com.fasterxml.jackson.core.io.NumberInput;

/**
 * float32 values as JSON text that gives the exact bits back when read as a double and rounded to
 * float32 (CONTRACT section 3). Non-finite values are the strings "NaN", "Infinity", "-Infinity".
 */
public final class FloatJson {
    private FloatJson() {}

    /**
     * The shortest form Java offers ({@link Float#toString}) when it survives double-then-float
     * parsing (it may not: that is two roundings), else the exact double value of the float. Null
     * for a non-finite value: write {@link #nonFinite} as a string instead.
     */
    public static String number(float f) {
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
