package io.qparams.observers;

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
 * <p>The same pass counts the values that are NaN or infinite and those that are zero (either
 * sign), for the record's {@code nonfinite} and {@code zeros} ({@link ValueCounts}): from {@code a
 * = bits & 0x7fffffff}, {@code (0x7f7fffff - a) >>> 31} is 1 exactly for the non-finite and {@code
 * (a - 1) >>> 31} exactly for the zeros, three lanewise instructions each, added up in int lanes (a
 * lane sees at most {@code 2^31 / 4 / LANES} values per call) and into {@code tally[0]} and {@code
 * tally[1]} once per call.
 */
final class VectorKernels {
    private static final VectorSpecies<Integer> SPECIES = IntVector.SPECIES_PREFERRED;

    /** Floats per vector. */
    static final int LANES = SPECIES.length();

    private static final int VECTOR_BYTES = SPECIES.vectorByteSize();

    /** Periods reduced together by {@link #accumulate}. */
    private static final int BLOCK = 8;

    private static final VarHandle INT_LE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_BE =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private VectorKernels() {}

    /** {@link FusedFloat32#sortable}, lane by lane. */
    private static IntVector sortable(IntVector bits) {
        return bits.lanewise(
                VectorOperators.XOR,
                bits.lanewise(VectorOperators.ASHR, 31).lanewise(VectorOperators.AND, 0x7fffffff));
    }

    /** 1 in the lanes that hold NaN or an infinity, else 0. */
    private static IntVector nonFinite(IntVector bits) {
        return IntVector.broadcast(SPECIES, Float.floatToRawIntBits(Float.MAX_VALUE))
                .sub(bits.lanewise(VectorOperators.AND, 0x7fffffff))
                .lanewise(VectorOperators.LSHR, 31);
    }

    /** 1 in the lanes that hold +0.0 or -0.0, else 0. */
    private static IntVector zero(IntVector bits) {
        return bits.lanewise(VectorOperators.AND, 0x7fffffff)
                .sub(1)
                .lanewise(VectorOperators.LSHR, 31);
    }

    private static int bitsAt(byte[] src, int at, ByteOrder order) {
        return order == ByteOrder.LITTLE_ENDIAN
                ? (int) INT_LE.get(src, at)
                : (int) INT_BE.get(src, at);
    }

    /** Counts one float's bits into {@code tally}: [0] non-finite, [1] zeros. */
    private static void countOne(int bits, long[] tally) {
        int magnitude = bits & 0x7fffffff;
        tally[0] += (Float.floatToRawIntBits(Float.MAX_VALUE) - magnitude) >>> 31;
        tally[1] += (magnitude - 1) >>> 31;
    }

    private static void addLanes(IntVector nonFinite, IntVector zeros, long[] tally) {
        tally[0] += nonFinite.reduceLanesToLong(VectorOperators.ADD);
        tally[1] += zeros.reduceLanesToLong(VectorOperators.ADD);
    }

    /**
     * Sortable min and max of the {@code count} floats at {@code src[offset]}, packed as {@code min
     * << 32 | max}; starts from (+inf, -inf), so 0 floats give that. Two accumulator pairs keep the
     * loop bound by the loads. Adds the non-finite values to {@code tally[0]}, the zeros to {@code
     * tally[1]}.
     */
    static long minMax(byte[] src, int offset, int count, ByteOrder order, long[] tally) {
        IntVector lo0 = IntVector.broadcast(SPECIES, FusedFloat32.SORTABLE_POSITIVE_INFINITY);
        IntVector hi0 = IntVector.broadcast(SPECIES, FusedFloat32.SORTABLE_NEGATIVE_INFINITY);
        IntVector lo1 = lo0;
        IntVector hi1 = hi0;
        IntVector nonFinite = IntVector.zero(SPECIES);
        IntVector zeros = nonFinite;
        int at = offset;
        int end = offset + count * Float.BYTES;
        for (int bodyEnd = offset + count / (2 * LANES) * 2 * VECTOR_BYTES;
                at < bodyEnd;
                at += 2 * VECTOR_BYTES) {
            IntVector bitsA = IntVector.fromByteArray(SPECIES, src, at, order);
            IntVector bitsB = IntVector.fromByteArray(SPECIES, src, at + VECTOR_BYTES, order);
            IntVector a = sortable(bitsA);
            IntVector b = sortable(bitsB);
            lo0 = lo0.min(a);
            hi0 = hi0.max(a);
            lo1 = lo1.min(b);
            hi1 = hi1.max(b);
            nonFinite = nonFinite.add(nonFinite(bitsA)).add(nonFinite(bitsB));
            zeros = zeros.add(zero(bitsA)).add(zero(bitsB));
        }
        addLanes(nonFinite, zeros, tally);
        int lo = lo0.min(lo1).reduceLanes(VectorOperators.MIN);
        int hi = hi0.max(hi1).reduceLanes(VectorOperators.MAX);
        for (; at < end; at += Float.BYTES) {
            int bits = bitsAt(src, at, order);
            int s = FusedFloat32.sortable(bits);
            lo = Math.min(lo, s);
            hi = Math.max(hi, s);
            countOne(bits, tally);
        }
        return (long) lo << 32 | (hi & 0xffffffffL);
    }

    /**
     * Elementwise into periodic lanes: the float at stream index p goes to {@code lo[p % A]} and
     * {@code hi[p % A]}, {@code A = lo.length}, a multiple of {@link #LANES}; {@code lane} is the
     * lane of the first float. Whole periods go {@link #BLOCK} at a time, so each lane vector is
     * loaded and stored once per block rather than once per period. Counts into {@code tally} as
     * {@link #minMax}.
     */
    static void accumulate(
            byte[] src,
            int offset,
            int count,
            ByteOrder order,
            int[] lo,
            int[] hi,
            int lane,
            long[] tally) {
        int period = lo.length;
        int end = offset + count * Float.BYTES;
        // Up to the start of a period (or the end), then whole blocks, then the rest.
        int blockStart = offset + Math.min(count, lane == 0 ? 0 : period - lane) * Float.BYTES;
        int at = accumulateFrom(src, offset, blockStart, order, lo, hi, lane, tally);
        int periodBytes = period * Float.BYTES;
        IntVector nonFinite = IntVector.zero(SPECIES);
        IntVector zeros = nonFinite;
        for (int blockEnd = at + (end - at) / (BLOCK * periodBytes) * (BLOCK * periodBytes);
                at < blockEnd;
                at += BLOCK * periodBytes) {
            for (int k = 0; k < period; k += LANES) {
                IntVector l = IntVector.fromArray(SPECIES, lo, k);
                IntVector h = IntVector.fromArray(SPECIES, hi, k);
                for (int p = at + k * Float.BYTES, r = 0; r < BLOCK; r++, p += periodBytes) {
                    IntVector bits = IntVector.fromByteArray(SPECIES, src, p, order);
                    IntVector v = sortable(bits);
                    l = l.min(v);
                    h = h.max(v);
                    nonFinite = nonFinite.add(nonFinite(bits));
                    zeros = zeros.add(zero(bits));
                }
                l.intoArray(lo, k);
                h.intoArray(hi, k);
            }
        }
        addLanes(nonFinite, zeros, tally);
        accumulateFrom(src, at, end, order, lo, hi, 0, tally);
    }

    /**
     * Periods of lanes one vector at a time, from lane {@code k}, over {@code src[at, end)};
     * returns end.
     */
    private static int accumulateFrom(
            byte[] src, int at, int end, ByteOrder order, int[] lo, int[] hi, int k, long[] tally) {
        int period = lo.length;
        // Scalar up to the next lane multiple of LANES, so no vector straddles the period's end.
        for (; at < end && k % LANES != 0; at += Float.BYTES) {
            k = accumulateOne(src, at, order, lo, hi, k, period, tally);
        }
        IntVector nonFinite = IntVector.zero(SPECIES);
        IntVector zeros = nonFinite;
        for (int bodyEnd = at + (end - at) / VECTOR_BYTES * VECTOR_BYTES;
                at < bodyEnd;
                at += VECTOR_BYTES) {
            IntVector bits = IntVector.fromByteArray(SPECIES, src, at, order);
            IntVector v = sortable(bits);
            IntVector.fromArray(SPECIES, lo, k).min(v).intoArray(lo, k);
            IntVector.fromArray(SPECIES, hi, k).max(v).intoArray(hi, k);
            nonFinite = nonFinite.add(nonFinite(bits));
            zeros = zeros.add(zero(bits));
            k += LANES;
            if (k == period) {
                k = 0;
            }
        }
        addLanes(nonFinite, zeros, tally);
        for (; at < end; at += Float.BYTES) {
            k = accumulateOne(src, at, order, lo, hi, k, period, tally);
        }
        return end;
    }

    private static int accumulateOne(
            byte[] src,
            int at,
            ByteOrder order,
            int[] lo,
            int[] hi,
            int k,
            int period,
            long[] tally) {
        int bits = bitsAt(src, at, order);
        int s = FusedFloat32.sortable(bits);
        lo[k] = Math.min(lo[k], s);
        hi[k] = Math.max(hi[k], s);
        countOne(bits, tally);
        return k + 1 == period ? 0 : k + 1;
    }
}
