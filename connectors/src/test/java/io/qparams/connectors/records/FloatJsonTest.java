package io.qparams.connectors.records;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link FloatJson#number}'s fast path gives the text of its slow path (JDK 17's Float.toString,
 * checked to survive double-then-float parsing, else Double.toString), so the records' bytes do not
 * depend on which one ran.
 *
 * <p>The fast range was checked exhaustively, every one of its floats, on JDK 17.0.15 (2 x 150 x
 * 2^23 floats, about 20 minutes on 2 cores): run this class with {@code
 * -Dqparams.floatjson.exhaustive=true} to repeat it (e.g. after a JDK update). By default it checks
 * every 1009th float of the range, the first and last 4,096 floats of every exponent (both
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
        assertEquals(true, checked > (EXHAUSTIVE ? 2_500_000_000L : 4_000_000L), "checked " + checked);
    }

    @Test
    void outsideTheRangeTheSlowPathRuns() {
        // Just outside the fast range the two algorithms differ: the range must not grow.
        assertEquals("1.17549435E-38", FloatJson.number(Float.MIN_NORMAL));
        assertEquals("3.3555768E7", FloatJson.number(Float.intBitsToFloat(0x4c00014e)));
        assertEquals("7.175E-43", FloatJson.number(Float.intBitsToFloat(0x200)));
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
