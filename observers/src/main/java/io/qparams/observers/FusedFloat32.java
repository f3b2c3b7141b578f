package io.qparams.observers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The fused path of {@link BatchReducer#acceptFloat32}: min/max straight from float32 bytes with
 * {@link VectorKernels}, no copy into a float chunk. Available only when the JVM runs with {@code
 * --add-modules jdk.incubator.vector} (and {@code -Dqparams.vector=false} is not set) and the
 * kernels pass a self-test; otherwise {@link #forShape} returns null and BatchReducer copies.
 *
 * <p>One of three layouts per reducer: the whole tensor into one min/max; per-channel runs of
 * {@code inner} values, each reduced into its channel; or, for short runs (ch_axis innermost, small
 * trailing dims), periodic lanes {@code lane[p % A]} folded into their channels at finish.
 *
 * <p>It also counts what {@link ValueCounts} reports, into the reducer's tally ([0] non-finite, [1]
 * zeros): the zeros as the kernels reduce; the non-finite values only in a call whose min or max
 * shows some (see {@link VectorKernels}).
 */
final class FusedFloat32 {
    /** {@code sortable(bits(+inf))} and {@code sortable(bits(-inf))}: NaN sorts outside them. */
    static final int SORTABLE_POSITIVE_INFINITY = 0x7f800000;

    static final int SORTABLE_NEGATIVE_INFINITY = 0x807fffff;

    /** Runs at least this long are reduced run by run; shorter ones go to periodic lanes. */
    private static final int LONG_RUN = 256;

    /** At most this many periodic lanes (ints) per array; past it short runs are copied. */
    private static final int MAX_PERIOD = 1 << 13;

    static final boolean AVAILABLE = probe();

    /** Test hook: switches the fused path off (and on again) for reducers made afterwards. */
    static boolean enabled = AVAILABLE;

    private final int channels;
    private final long inner;
    private final boolean runs;

    /** Periodic lanes of sortable ints, or null when whole runs are reduced. */
    private final int[] laneMin;

    private final int[] laneMax;

    /** Per periodic lane, how many of its floats were not zero. */
    private final int[] laneNonZero;

    /** Floats that went into the periodic lanes since the last finish. */
    private long laneValues;

    /** The lanes hold a NaN or an infinity: every later call of the batch is counted again. */
    private boolean laneNonFinite;

    private FusedFloat32(int channels, long inner, boolean runs, int period) {
        this.channels = channels;
        this.inner = inner;
        this.runs = runs;
        this.laneMin = runs ? null : new int[period];
        this.laneMax = runs ? null : new int[period];
        this.laneNonZero = runs ? null : new int[period];
        if (!runs) {
            Arrays.fill(laneMin, SORTABLE_POSITIVE_INFINITY);
            Arrays.fill(laneMax, SORTABLE_NEGATIVE_INFINITY);
        }
    }

    /**
     * The fused path for a reducer of this layout (a per-tensor reducer is one channel with one
     * run), or null when it is unavailable, switched off, or the layout is better copied.
     */
    static FusedFloat32 forShape(int channels, long inner, long numel) {
        if (!enabled) {
            return null;
        }
        if (channels == 1 || inner >= LONG_RUN) {
            return new FusedFloat32(channels, inner, true, 0);
        }
        // A: a multiple of the channel pattern's period and of the vector length, at least 8
        // vectors
        // so a lane's store is not read back by the very next vector.
        int lanes = VectorKernels.LANES;
        long pattern = channels * inner;
        long period = pattern / gcd(pattern, lanes) * lanes;
        period *= Math.max(1, (8L * lanes + period - 1) / period);
        if (period <= MAX_PERIOD && period <= numel) {
            return new FusedFloat32(channels, inner, false, (int) period);
        }
        return inner >= 4L * lanes ? new FusedFloat32(channels, inner, true, 0) : null;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /**
     * Reduces the {@code count} floats at {@code src[offset]}, starting at stream index {@code
     * position}, and counts them into {@code tally} ([0] non-finite, [1] zeros; the periodic lanes'
     * zeros at {@link #finish}).
     */
    void accept(
            byte[] src,
            int offset,
            int count,
            ByteOrder order,
            long position,
            float[] min,
            float[] max,
            long[] tally) {
        if (!runs) {
            VectorKernels.accumulate(
                    src,
                    offset,
                    count,
                    order,
                    laneMin,
                    laneMax,
                    laneNonZero,
                    (int) (position % laneMin.length));
            laneValues += count;
            if (laneNonFinite || VectorKernels.nonFiniteIn(laneMin, laneMax)) {
                laneNonFinite = true;
                tally[0] += VectorKernels.countNonFinite(src, offset, count, order);
            }
            return;
        }
        long at = position;
        for (int i = 0; i < count; ) {
            int channel = channels == 1 ? 0 : (int) ((at / inner) % channels);
            int run = (int) Math.min(inner - at % inner, count - i);
            long packed = VectorKernels.minMax(src, offset + i * Float.BYTES, run, order, tally);
            fold(min, max, channel, (int) (packed >> 32), (int) packed);
            i += run;
            at += run;
        }
    }

    /**
     * Folds the periodic lanes into their channels (lane k holds channel {@code (k / inner) % C}),
     * and their zeros into {@code tally[1]}.
     */
    void finish(float[] min, float[] max, long[] tally) {
        if (runs) {
            return;
        }
        long nonZero = 0;
        for (int k = 0; k < laneMin.length; k++) {
            fold(min, max, (int) ((k / inner) % channels), laneMin[k], laneMax[k]);
            nonZero += laneNonZero[k];
        }
        tally[1] += laneValues - nonZero;
        Arrays.fill(laneMin, SORTABLE_POSITIVE_INFINITY);
        Arrays.fill(laneMax, SORTABLE_NEGATIVE_INFINITY);
        Arrays.fill(laneNonZero, 0);
        laneValues = 0;
        laneNonFinite = false;
    }

    /**
     * Counts {@code values[from, to)} into {@code tally} ([0] non-finite, [1] zeros) for {@link
     * BatchReducer#accept}: with the Vector API when the fused path is on, else value by value.
     */
    static void count(float[] values, int from, int to, long[] tally) {
        if (enabled) {
            VectorKernels.count(values, from, to, tally);
            return;
        }
        long nonZero = 0;
        int largest = 0;
        for (int i = from; i < to; i++) {
            int magnitude = Float.floatToRawIntBits(values[i]) & 0x7fffffff;
            nonZero += Math.min(magnitude, 1);
            largest = Math.max(largest, magnitude);
        }
        tally[1] += (to - from) - nonZero;
        if (largest >= SORTABLE_POSITIVE_INFINITY) { // the magnitude bits of +inf
            for (int i = from; i < to; i++) {
                tally[0] += Float.isFinite(values[i]) ? 0 : 1;
            }
        }
    }

    /** The float's bits mapped so that signed int order is float order; its own inverse. */
    static int sortable(int bits) {
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /**
     * {@code min = minimum(min, lo)}, likewise max, torch-style: a NaN on either side makes both
     * NaN.
     */
    private static void fold(float[] min, float[] max, int channel, int lo, int hi) {
        if (lo < SORTABLE_NEGATIVE_INFINITY || hi > SORTABLE_POSITIVE_INFINITY) {
            min[channel] = Float.NaN;
            max[channel] = Float.NaN;
        } else {
            min[channel] = Math.min(min[channel], Float.intBitsToFloat(sortable(lo)));
            max[channel] = Math.max(max[channel], Float.intBitsToFloat(sortable(hi)));
        }
    }

    /**
     * Whether the kernels run here: the module is in the boot layer (else VectorKernels must never
     * load), not switched off, vectors of at least 4 floats (narrower ones run as slow Java), and a
     * self-test over both byte orders passes (JDK 20+ dropped {@code fromByteArray}: a linkage
     * error lands here too).
     */
    private static boolean probe() {
        if ("false".equalsIgnoreCase(System.getProperty("qparams.vector"))
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return false;
        }
        try {
            if (VectorKernels.LANES < 4) {
                return false;
            }
            int n = 3 * VectorKernels.LANES + 1;
            for (ByteOrder order :
                    new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                ByteBuffer bytes = ByteBuffer.allocate(1 + n * Float.BYTES).order(order);
                for (int i = 0; i < n; i++) {
                    bytes.putFloat(1 + i * Float.BYTES, i == n / 2 ? -2.5f : i);
                }
                long[] tally = new long[2];
                long packed = VectorKernels.minMax(bytes.array(), 1, n, order, tally);
                if (Float.intBitsToFloat(sortable((int) (packed >> 32))) != -2.5f
                        || Float.intBitsToFloat(sortable((int) packed)) != n - 1
                        || tally[0] != 0
                        || tally[1] != 1) {
                    return false;
                }
            }
            return true;
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }
}
