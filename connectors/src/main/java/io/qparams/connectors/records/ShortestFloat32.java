package io.qparams.connectors.records;

/**
 * {@link FloatJson#number}'s text for the floats that records mostly hold, written straight into a
 * byte buffer: no object, no String. Covers magnitudes from 2^-36 (about 1.5e-11) up to (not
 * including) 2^25, except the powers of two; {@link #write} answers -1 for any other float, and the
 * caller takes FloatJson's path.
 *
 * <p>The digits are Schubfach's (Giulietti, "The Schubfach way to render doubles", 2020): the
 * shortest decimal in the float's rounding interval, the closest of those to the float, an even
 * last digit on a tie. The paper approximates 10^-k to stay within 64-bit products; here the float
 * is small enough for exact integer arithmetic instead: with v = c 2^q, k = floor(log10 2^q) and K
 * = -k in 0..18, every comparison the algorithm makes is one between two integers below 2^128
 * ({@code c 10^K} against {@code d 2^-q}), so no table and no rounding. The text is the format of
 * {@link Float#toString}: plain from 10^-3 up to 10^7, else {@code d.dddE±n}, at least one digit
 * after the point. FloatJsonTest checks every float of the range against FloatJson.number.
 */
final class ShortestFloat32 {
    private ShortestFloat32() {}

    /** The lowest biased exponent handled: q = -59, so K <= 18 and 10^K fits in a long. */
    static final int MIN_EXPONENT = 91;

    /** The highest: magnitudes below 2^25 (FloatJson's fast range ends there too). */
    static final int MAX_EXPONENT = FloatJson.FAST_MAX_EXPONENT;

    /** The most characters {@link #write} writes: "-1.2345678E-11". */
    static final int MAX_CHARS = 15;

    private static final long[] POW10 = new long[19];

    /** K = ceil(m log10 2) for m = -q in 0..59: the smallest K with 10^K >= 2^m. */
    private static final int[] K_OF_M = new int[60];

    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) {
            POW10[i] = POW10[i - 1] * 10;
        }
        for (int m = 0; m < K_OF_M.length; m++) {
            int k = 0;
            while (Long.compareUnsigned(POW10[k], 1L << m) < 0) {
                k++;
            }
            K_OF_M[m] = k;
        }
    }

    /**
     * Writes the float's text at {@code buf[at]} (room for {@link #MAX_CHARS} bytes needed) and
     * returns the index after it, or -1 (nothing written) for a float outside the range.
     */
    static int write(float f, byte[] buf, int at) {
        int bits = Float.floatToRawIntBits(f);
        int exponent = (bits >>> 23) & 0xff;
        int fraction = bits & 0x7fffff;
        if (exponent < MIN_EXPONENT || exponent > MAX_EXPONENT || fraction == 0) {
            return -1;
        }
        long c = fraction | 0x800000L;
        int q = exponent - 150;
        // q in -59..1. For q <= 0: m = -q, K = ceil(m log10 2), k = -K; for q = 1: k = 0.
        int m = Math.max(-q, 0);
        int shiftLeft = Math.max(q, 0); // 1 only for q = 1
        int bigK = q <= 0 ? K_OF_M[m] : 0;
        long t = POW10[bigK];
        boolean open = (c & 1) != 0; // an odd c: the interval's ends round to its neighbours
        // Scaled by 4 10^K 2^m: v -> 4c 10^K 2^shiftLeft, the ends -> (4c -+ 2) 10^K 2^shiftLeft,
        // and a decimal d 10^k -> 4d 2^m.
        long s = floorScaled(c, t, m, shiftLeft); // floor(v 10^-k)
        long sp10 = s / 10 * 10;
        long tp10 = sp10 + 10;
        boolean upin = lowInside(4 * c - 2, t, shiftLeft, sp10, m, open);
        boolean wpin = highInside(4 * c + 2, t, shiftLeft, tp10, m, open);
        long digits;
        int k = -bigK;
        if (upin != wpin) {
            digits = upin ? sp10 : tp10;
        } else {
            long next = s + 1;
            boolean uin = lowInside(4 * c - 2, t, shiftLeft, s, m, open);
            boolean win = highInside(4 * c + 2, t, shiftLeft, next, m, open);
            if (uin != win) {
                digits = uin ? s : next;
            } else {
                // v against the midpoint (s + next) / 2: 4c 10^K 2^l vs 2(s + next) 2^m
                int cmp = compare(4 * c, t, shiftLeft, 2 * (s + next), m);
                digits = cmp < 0 || cmp == 0 && (s & 1) == 0 ? s : next;
            }
        }
        if (bits < 0) {
            buf[at++] = '-';
        }
        return toChars(digits, k, buf, at);
    }

    /** floor(c 10^K 2^l / 2^m), at most 10 digits. */
    private static long floorScaled(long c, long t, int m, int shiftLeft) {
        long lo = c * t;
        long hi = Math.multiplyHigh(c, t);
        if (shiftLeft > 0) {
            return lo << shiftLeft; // q = 1: t = 1, c 2 fits
        }
        if (m == 0) {
            return lo;
        }
        return (lo >>> m) | (hi << (64 - m));
    }

    /** Whether the interval's low end a 10^K 2^l / 4 lies below d (at d when the end is closed). */
    private static boolean lowInside(long a, long t, int shiftLeft, long d, int m, boolean open) {
        int cmp = compare(a, t, shiftLeft, 4 * d, m);
        return open ? cmp < 0 : cmp <= 0;
    }

    /** Whether d lies below the interval's high end (at it when closed). */
    private static boolean highInside(long a, long t, int shiftLeft, long d, int m, boolean open) {
        int cmp = compare(a, t, shiftLeft, 4 * d, m);
        return open ? cmp > 0 : cmp >= 0;
    }

    /**
     * The sign of {@code a t 2^l - b 2^m}, exactly: a < 2^27, t < 2^60, b < 2^37, l <= 1, m <= 59,
     * so both sides are below 2^97.
     */
    private static int compare(long a, long t, int shiftLeft, long b, int m) {
        long leftLo = a * t;
        long leftHi = Math.multiplyHigh(a, t);
        if (shiftLeft > 0) {
            leftHi = (leftHi << shiftLeft) | (leftLo >>> (64 - shiftLeft));
            leftLo <<= shiftLeft;
        }
        long rightLo = b << m;
        long rightHi = m == 0 ? 0 : b >>> (64 - m);
        int high = Long.compareUnsigned(leftHi, rightHi);
        return high != 0 ? high : Long.compareUnsigned(leftLo, rightLo);
    }

    /**
     * {@code digits 10^k} in Float.toString's format: with n the decimal exponent such that the
     * value is 0.ddd 10^n, plain when -3 < n <= 7, else d.ddd E(n-1).
     */
    private static int toChars(long digits, int k, byte[] buf, int at) {
        // Strip trailing zeros: the value is digits 10^k either way.
        while (digits % 10 == 0) {
            digits /= 10;
            k++;
        }
        int len = decimalLength(digits);
        int n = k + len; // value = 0.d1 d2 ... dlen 10^n
        if (0 < n && n <= 7) {
            // plain: n integer digits (zero-padded when len < n), then the rest or ".0"
            at = writeDigits(digits, len, buf, at, n);
            return at;
        }
        if (-3 < n && n <= 0) {
            buf[at++] = '0';
            buf[at++] = '.';
            for (int i = 0; i < -n; i++) {
                buf[at++] = '0';
            }
            return writeAll(digits, len, buf, at);
        }
        // computerized: d.ddd E (n - 1)
        at = writeDigits(digits, len, buf, at, 1);
        buf[at++] = 'E';
        int e = n - 1;
        if (e < 0) {
            buf[at++] = '-';
            e = -e;
        }
        if (e >= 10) {
            buf[at++] = (byte) ('0' + e / 10);
        }
        buf[at++] = (byte) ('0' + e % 10);
        return at;
    }

    /**
     * The len digits with the point after the first {@code point} of them (zeros padding the
     * integer part when there are fewer digits), ".0" when nothing follows the point.
     */
    private static int writeDigits(long digits, int len, byte[] buf, int at, int point) {
        int intDigits = Math.min(len, point);
        int start = at;
        writeAll(digits, len, buf, at); // all the digits, then move the fraction right by one
        at += len;
        if (len <= point) {
            for (int i = len; i < point; i++) {
                buf[at++] = '0';
            }
            buf[at++] = '.';
            buf[at++] = '0';
            return at;
        }
        // insert the point after intDigits
        System.arraycopy(buf, start + intDigits, buf, start + intDigits + 1, len - intDigits);
        buf[start + intDigits] = '.';
        return at + 1;
    }

    /** The len digits of {@code digits}, most significant first. */
    private static int writeAll(long digits, int len, byte[] buf, int at) {
        for (int i = at + len - 1; i >= at; i--) {
            buf[i] = (byte) ('0' + (int) (digits % 10));
            digits /= 10;
        }
        return at + len;
    }

    private static int decimalLength(long v) {
        int len = 1;
        while (len < POW10.length && v >= POW10[len]) {
            len++;
        }
        return len;
    }
}
