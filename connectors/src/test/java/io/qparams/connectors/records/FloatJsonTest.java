package io.qparams.connectors.records;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link FloatJson#number}'s fast path gives the text of its slow path (JDK 17's Float.toString,
 * checked to survive double-then-float parsing, else Double.toString), so the records' bytes do not
 * depend on which one ran.
 *
 * <p>The fast range was checked exhaustively on JDK 17.0.15, every positive float of exponents 1 to
 * 151 (1.27 billion; the sign is printed apart by both algorithms), in about 15 minutes on 2
 * threads: 14 differed, 13 powers of two and {@link FloatJson#DOUBLE_ROUNDING_TRAP}, all on the
 * slow path now. Run this class with {@code -Dqparams.floatjson.exhaustive=true} to repeat it for
 * the fast range, both signs, on one thread (an hour or so; e.g. after a JDK update). By default it
 * checks every 1009th float of the range, the first and last 4,096 floats of every exponent (both
 * signs) and the floats just outside the range, in a few seconds: that is what CI runs.
 */
class FloatJsonTest {
    private static final boolean EXHAUSTIVE = Boolean.getBoolean("qparams.floatjson.exhaustive");

    @Test
    void fastPathGivesTheSlowPathsText() {
        int stride = EXHAUSTIVE ? 1 : 1009;
        int edge = 4096;
        long checked = 0;
        for (int exponent = FloatJson.FAST_MIN_EXPONENT;
                exponent <= FloatJson.FAST_MAX_EXPONENT;
                exponent++) {
            int base = exponent << 23;
            for (int m = 0; m < (1 << 23); m += (m < edge || m >= (1 << 23) - edge) ? 1 : stride) {
                checked += check(base | m) + check(base | m | 0x80000000);
            }
        }
        assertEquals(
                true, checked > (EXHAUSTIVE ? 2_500_000_000L : 4_000_000L), "checked " + checked);
    }

    @Test
    void outsideTheRangeTheSlowPathRuns() {
        // Just outside the fast range the two algorithms differ: the range must not grow.
        assertEquals("1.17549435E-38", FloatJson.number(Float.MIN_NORMAL));
        assertEquals("3.3555768E7", FloatJson.number(Float.intBitsToFloat(0x4c00014e)));
        assertEquals("7.175E-43", FloatJson.number(Float.intBitsToFloat(0x200)));
        // Inside the range, the one float whose shortest text reads back as its neighbour.
        float trap = Float.intBitsToFloat(FloatJson.DOUBLE_ROUNDING_TRAP);
        assertEquals("7.038531E-26", Float.toString(trap));
        assertEquals(
                Float.intBitsToFloat(FloatJson.DOUBLE_ROUNDING_TRAP + 1),
                (float) Double.parseDouble("7.038531E-26"));
        assertEquals("7.038530691851209E-26", FloatJson.number(trap));
        assertEquals("-7.038530691851209E-26", FloatJson.number(-trap));
        for (float f : new float[] {0f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE}) {
            assertEquals(FloatJson.slowNumber(f), FloatJson.number(f));
        }
        assertEquals(null, FloatJson.number(Float.NaN));
    }

    private static int check(int bits) {
        float f = Float.intBitsToFloat(bits);
        String fast = FloatJson.number(f);
        String slow = FloatJson.slowNumber(f);
        if (!fast.equals(slow)) {
            assertEquals(slow, fast, "float bits 0x" + Integer.toHexString(bits));
        }
        return 1;
    }
}
