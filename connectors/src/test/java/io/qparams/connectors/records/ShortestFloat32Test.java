package io.qparams.connectors.records;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ShortestFloat32} writes exactly {@link FloatJson#number}'s text for every float it takes,
 * and declines every other one. By default every 101st float of its range (both signs, about 10
 * million), the first and last 4,096 of each exponent and the floats around the range's edges; with
 * {@code -Dqparams.floatjson.exhaustive=true}, every float of the range (both signs, 1.02 billion,
 * a few minutes on 2 threads). Exhaustively checked on JDK 17.0.15 when it was written.
 */
class ShortestFloat32Test {
    private static final boolean EXHAUSTIVE = Boolean.getBoolean("qparams.floatjson.exhaustive");

    @Test
    void writesFloatJsonsTextForEveryFloatOfItsRange() {
        int stride = EXHAUSTIVE ? 1 : 101;
        int edge = 4096;
        AtomicLong checked = new AtomicLong();
        IntStream.rangeClosed(ShortestFloat32.MIN_EXPONENT, ShortestFloat32.MAX_EXPONENT)
                .parallel()
                .forEach(
                        exponent -> {
                            byte[] buf = new byte[ShortestFloat32.MAX_CHARS + 3];
                            long n = 0;
                            int base = exponent << 23;
                            for (int m = 1;
                                    m < (1 << 23);
                                    m += (m < edge || m >= (1 << 23) - edge) ? 1 : stride) {
                                n += check(base | m, buf) + check(base | m | 0x80000000, buf);
                            }
                            checked.addAndGet(n);
                        });
        assertTrue(
                checked.get() > (EXHAUSTIVE ? 1_000_000_000L : 9_000_000L), "checked " + checked);
    }

    @Test
    void declinesEveryFloatOutsideItsRange() {
        byte[] buf = new byte[ShortestFloat32.MAX_CHARS];
        float[] outside = {
            0f,
            -0f,
            Float.MIN_VALUE,
            Float.MIN_NORMAL,
            Float.intBitsToFloat(((ShortestFloat32.MIN_EXPONENT - 1) << 23) | 0x7fffff),
            Float.intBitsToFloat((ShortestFloat32.MAX_EXPONENT + 1) << 23 | 1),
            Float.intBitsToFloat(FloatJson.DOUBLE_ROUNDING_TRAP),
            1f, // a power of two
            0.5f,
            Float.MAX_VALUE,
            Float.POSITIVE_INFINITY,
            Float.NaN
        };
        for (float f : outside) {
            assertEquals(-1, ShortestFloat32.write(f, buf, 0), "declined: " + f);
        }
    }

    @Test
    void theFormatsOfFloatToString() {
        for (float f :
                new float[] {
                    1.5f,
                    -0.1f,
                    0.001f,
                    0.00123f,
                    9.999999E-4f,
                    1234567.1f,
                    9999999.0f,
                    1.0E7f,
                    1.2345679E7f,
                    3.0E-11f,
                    -2.71828f,
                    100.25f,
                    12345.0f
                }) {
            assertEquals(Float.toString(f), written(f), "as Float.toString writes " + f);
        }
    }

    private static String written(float f) {
        byte[] buf = new byte[ShortestFloat32.MAX_CHARS + 2];
        int end = ShortestFloat32.write(f, buf, 1);
        assertTrue(end > 1, "written: " + f);
        return new String(buf, 1, end - 1, StandardCharsets.US_ASCII);
    }

    private static int check(int bits, byte[] buf) {
        float f = Float.intBitsToFloat(bits);
        Arrays.fill(buf, (byte) '#');
        int end = ShortestFloat32.write(f, buf, 2);
        String expected = FloatJson.number(f);
        if (end < 0 || !expected.equals(new String(buf, 2, end - 2, StandardCharsets.US_ASCII))) {
            assertEquals(
                    expected,
                    end < 0 ? "declined" : new String(buf, 2, end - 2, StandardCharsets.US_ASCII),
                    "float bits " + Integer.toHexString(bits));
        }
        assertEquals('#', buf[1], "nothing before");
        return 1;
    }
}
