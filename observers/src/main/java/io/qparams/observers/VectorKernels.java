package io.qparams.observers;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The float32 min/max kernels of {@link BatchReducer#acceptFloat32}, reading straight from the
 * record's bytes with JDK 17's incubator Vector API. Only {@link FusedFloat32} touches this class,
 * and only once it has seen the {@code jdk.incubator.vector} module in the boot layer: on a JVM
 * without {@code --add-modules jdk.incubator.vector} it is never loaded.
 *
 * <p>Values are reduced as sortable ints, {@code s = bits ^ ((bits >> 31) & 0x7fffffff)}: signed
 * int order is then float order with -NaN < -inf < ... < -0.0 < +0.0 < ... < +inf < +NaN, so one
 * int min and one int max per vector do what the NaN-propagating float min/max needs several
 * instructions for. A NaN anywhere shows afterwards as {@code min < sortable(-inf)} or {@code max >
 * sortable(+inf)}; {@link FusedFloat32#fold} turns that into NaN for both.
 *
 * <p>The same pass counts the values that are not zero, for the record's {@code zeros} ({@link
 * ValueCounts}): {@code min(bits & 0x7fffffff, 1)} is 0 exactly for +0.0 and -0.0, three lanewise
 * instructions a vector (and, add up). Non-finite values are not counted in the loop: the min and
 * max show whether there are any ({@link #nonFiniteIn}), and only a stretch that holds some is
 * counted again ({@link #countNonFinite}), so a finite batch pays nothing for them.
 */
final class VectorKernels {
    private static final VectorSpecies<Integer> SPECIES = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    /** Floats per vector. */
    static final int LANES = SPECIES.length();

    private static final int VECTOR_BYTES = SPECIES.vectorByteSize();

    /** Periods reduced together by {@link #accumulate}. */
    private static final int BLOCK = 8;

    /** {@code bits & MAGNITUDE}: the float's bits without its sign. */
    private static final int MAGNITUDE = 0x7fffffff;

    /** The magnitude bits of +inf: at or above it, a value is infinite or NaN. */
    private static final int INFINITY_BITS = 0x7f800000;

    private static final VarHandle INT_LE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_BE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private VectorKernels() {}

    /** {@link FusedFloat32#sortable}, lane by lane. */
    private static IntVector sortable(IntVector bits) {
        return bits.lanewise(
                VectorOperators.XOR,
                bits.lanewise(VectorOperators.ASHR, 31).lanewise(VectorOperators.AND, MAGNITUDE));
    }

    /** 0 in the lanes that hold +0.0 or -0.0, 1 in the others. */
    private static IntVector nonZero(IntVector bits) {
        return bits.lanewise(VectorOperators.AND, MAGNITUDE).min(1);
    }

    private static int bitsAt(byte[] src, int at, ByteOrder order) {
        return order == ByteOrder.LITTLE_ENDIAN
                ? (int) INT_LE.get(src, at)
                : (int) INT_BE.get(src, at);
    }

    /** 1 for a float that is not zero, else 0. */
    private static int nonZero(int bits) {
        return Math.min(bits & MAGNITUDE, 1);
    }

    /**
     * Sortable min and max of the {@code count} floats at {@code src[offset]}, packed as {@code min
     * << 32 | max}; starts from (+inf, -inf), so 0 floats give that. Two accumulator pairs keep the
     * loop bound by the loads. Adds the floats that are zero to {@code tally[1]}, and, when the min
     * or max shows any, those that are NaN or infinite to {@code tally[0]}.
     */
    static long minMax(byte[] src, int offset, int count, ByteOrder order, long[] tally) {
        IntVector lo0 = IntVector.broadcast(SPECIES, FusedFloat32.SORTABLE_POSITIVE_INFINITY);
        IntVector hi0 = IntVector.broadcast(SPECIES, FusedFloat32.SORTABLE_NEGATIVE_INFINITY);
        IntVector lo1 = lo0;
        IntVector hi1 = hi0;
        IntVector nonZeros = IntVector.zero(SPECIES);
        int at = offset;
        int end = offset + count * Float.BYTES;
        for (int bodyEnd = offset + count / (2 * LANES) * 2 * VECTOR_BYTES;
                at < bodyEnd;
                at += 2 * VECTOR_BYTES) {
            IntVector a = IntVector.fromByteArray(SPECIES, src, at, order);
            IntVector b = IntVector.fromByteArray(SPECIES, src, at + VECTOR_BYTES, order);
            nonZeros = nonZeros.add(nonZero(a)).add(nonZero(b));
            a = sortable(a);
            b = sortable(b);
            lo0 = lo0.min(a);
            hi0 = hi0.max(a);
            lo1 = lo1.min(b);
            hi1 = hi1.max(b);
        }
        long nonZero = nonZeros.reduceLanesToLong(VectorOperators.ADD);
        int lo = lo0.min(lo1).reduceLanes(VectorOperators.MIN);
        int hi = hi0.max(hi1).reduceLanes(VectorOperators.MAX);
        for (; at < end; at += Float.BYTES) {
            int bits = bitsAt(src, at, order);
            int s = FusedFloat32.sortable(bits);
            lo = Math.min(lo, s);
            hi = Math.max(hi, s);
            nonZero += nonZero(bits);
        }
        tally[1] += count - nonZero;
        if (nonFiniteIn(lo, hi)) {
            tally[0] += countNonFinite(src, offset, count, order);
        }
        return (long) lo << 32 | (hi & 0xffffffffL);
    }

    /** Whether a sortable min and max came from floats of which some were NaN or infinite. */
    static boolean nonFiniteIn(int sortableMin, int sortableMax) {
        return sortableMin <= FusedFloat32.SORTABLE_NEGATIVE_INFINITY
                || sortableMax >= FusedFloat32.SORTABLE_POSITIVE_INFINITY;
    }

    /**
     * How many of the {@code count} floats at {@code src[offset]} are NaN or infinite: the second
     * look at a stretch whose min or max showed some.
     */
    static long countNonFinite(byte[] src, int offset, int count, ByteOrder order) {
        IntVector nonFinite = IntVector.zero(SPECIES);
        int at = offset;
        int end = offset + count * Float.BYTES;
        for (int bodyEnd = offset + count / LANES * VECTOR_BYTES;
                at < bodyEnd;
                at += VECTOR_BYTES) {
            IntVector magnitude =
                    IntVector.fromByteArray(SPECIES, src, at, order)
                            .lanewise(VectorOperators.AND, MAGNITUDE);
            // INFINITY_BITS - 1 - magnitude is negative exactly for inf and NaN
            nonFinite =
                    nonFinite.add(
                            IntVector.broadcast(SPECIES, INFINITY_BITS - 1)
                                    .sub(magnitude)
                                    .lanewise(VectorOperators.LSHR, 31));
        }
        long n = nonFinite.reduceLanesToLong(VectorOperators.ADD);
        for (; at < end; at += Float.BYTES) {
            n += (bitsAt(src, at, order) & MAGNITUDE) >= INFINITY_BITS ? 1 : 0;
        }
        return n;
    }

    /**
     * Whether the periodic lanes of {@link #accumulate} hold a NaN or an infinity (a lane's min at
     * or below sortable(-inf), or its max at or above sortable(+inf)).
     */
    static boolean nonFiniteIn(int[] lo, int[] hi) {
        IntVector min = IntVector.broadcast(SPECIES, FusedFloat32.SORTABLE_POSITIVE_INFINITY);
        IntVector max = IntVector.broadcast(SPECIES, FusedFloat32.SORTABLE_NEGATIVE_INFINITY);
        for (int k = 0; k < lo.length; k += LANES) {
            min = min.min(IntVector.fromArray(SPECIES, lo, k));
            max = max.max(IntVector.fromArray(SPECIES, hi, k));
        }
        return nonFiniteIn(
                min.reduceLanes(VectorOperators.MIN), max.reduceLanes(VectorOperators.MAX));
    }

    /**
     * Elementwise into periodic lanes: the float at stream index p goes to {@code lo[p % A]} and
     * {@code hi[p % A]}, {@code A = lo.length}, a multiple of {@link #LANES}; {@code lane} is the
     * lane of the first float. Whole periods go {@link #BLOCK} at a time, so each lane vector is
     * loaded and stored once per block rather than once per period. {@code nonZero[p % A]} counts
     * the floats that are not zero, likewise (the caller counts the non-finite ones).
     */
    static void accumulate(
            byte[] src,
            int offset,
            int count,
            ByteOrder order,
            int[] lo,
            int[] hi,
            int[] nonZero,
            int lane) {
        int period = lo.length;
        int end = offset + count * Float.BYTES;
        // Up to the start of a period (or the end), then whole blocks, then the rest.
        int blockStart = offset + Math.min(count, lane == 0 ? 0 : period - lane) * Float.BYTES;
        int at = accumulateFrom(src, offset, blockStart, order, lo, hi, nonZero, lane);
        int periodBytes = period * Float.BYTES;
        for (int blockEnd = at + (end - at) / (BLOCK * periodBytes) * (BLOCK * periodBytes);
                at < blockEnd;
                at += BLOCK * periodBytes) {
            for (int k = 0; k < period; k += LANES) {
                IntVector l = IntVector.fromArray(SPECIES, lo, k);
                IntVector h = IntVector.fromArray(SPECIES, hi, k);
                IntVector n = IntVector.fromArray(SPECIES, nonZero, k);
                for (int p = at + k * Float.BYTES, r = 0; r < BLOCK; r++, p += periodBytes) {
                    IntVector bits = IntVector.fromByteArray(SPECIES, src, p, order);
                    n = n.add(nonZero(bits));
                    IntVector v = sortable(bits);
                    l = l.min(v);
                    h = h.max(v);
                }
                l.intoArray(lo, k);
                h.intoArray(hi, k);
                n.intoArray(nonZero, k);
            }
        }
        accumulateFrom(src, at, end, order, lo, hi, nonZero, 0);
    }

    /**
     * Periods of lanes one vector at a time, from lane {@code k}, over {@code src[at, end)};
     * returns end.
     */
    private static int accumulateFrom(
            byte[] src,
            int at,
            int end,
            ByteOrder order,
            int[] lo,
            int[] hi,
            int[] nonZero,
            int k) {
        int period = lo.length;
        // Scalar up to the next lane multiple of LANES, so no vector straddles the period's end.
        for (; at < end && k % LANES != 0; at += Float.BYTES) {
            k = accumulateOne(src, at, order, lo, hi, nonZero, k, period);
        }
        for (int bodyEnd = at + (end - at) / VECTOR_BYTES * VECTOR_BYTES;
                at < bodyEnd;
                at += VECTOR_BYTES) {
            IntVector bits = IntVector.fromByteArray(SPECIES, src, at, order);
            IntVector.fromArray(SPECIES, nonZero, k).add(nonZero(bits)).intoArray(nonZero, k);
            IntVector v = sortable(bits);
            IntVector.fromArray(SPECIES, lo, k).min(v).intoArray(lo, k);
            IntVector.fromArray(SPECIES, hi, k).max(v).intoArray(hi, k);
            k += LANES;
            if (k == period) {
                k = 0;
            }
        }
        for (; at < end; at += Float.BYTES) {
            k = accumulateOne(src, at, order, lo, hi, nonZero, k, period);
        }
        return end;
    }

    private static int accumulateOne(
            byte[] src,
            int at,
            ByteOrder order,
            int[] lo,
            int[] hi,
            int[] nonZero,
            int k,
            int period) {
        int bits = bitsAt(src, at, order);
        int s = FusedFloat32.sortable(bits);
        lo[k] = Math.min(lo[k], s);
        hi[k] = Math.max(hi[k], s);
        nonZero[k] += nonZero(bits);
        return k + 1 == period ? 0 : k + 1;
    }

    /**
     * Counts {@code values[from, to)} into {@code tally}: [0] += the NaN and infinite ones, [1] +=
     * the zeros (the copy path's count, {@link BatchReducer#accept}, over a chunk in cache). The
     * largest magnitude shows whether a second look for non-finite values is needed.
     */
    static void count(float[] values, int from, int to, long[] tally) {
        IntVector nonZeros = IntVector.zero(SPECIES);
        IntVector largest = nonZeros;
        int i = from;
        for (int bodyEnd = from + (to - from) / LANES * LANES; i < bodyEnd; i += LANES) {
            IntVector magnitude =
                    FloatVector.fromArray(FLOATS, values, i)
                            .reinterpretAsInts()
                            .lanewise(VectorOperators.AND, MAGNITUDE);
            nonZeros = nonZeros.add(magnitude.min(1));
            largest = largest.max(magnitude);
        }
        long nonZero = nonZeros.reduceLanesToLong(VectorOperators.ADD);
        int max = largest.reduceLanes(VectorOperators.MAX);
        for (; i < to; i++) {
            int magnitude = Float.floatToRawIntBits(values[i]) & MAGNITUDE;
            nonZero += Math.min(magnitude, 1);
            max = Math.max(max, magnitude);
        }
        tally[1] += (to - from) - nonZero;
        if (max >= INFINITY_BITS) {
            for (int k = from; k < to; k++) {
                tally[0] += Float.isFinite(values[k]) ? 0 : 1;
            }
        }
    }
}
