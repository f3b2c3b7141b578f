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

    private static int sortableAt(byte[] src, int at, ByteOrder order) {
        return FusedFloat32.sortable(
                order == ByteOrder.LITTLE_ENDIAN
                        ? (int) INT_LE.get(src, at)
                        : (int) INT_BE.get(src, at));
    }

    /**
     * Sortable min and max of the {@code count} floats at {@code src[offset]}, packed as {@code min
     * << 32 | max}; starts from (+inf, -inf), so 0 floats give that. Two accumulator pairs keep the
     * loop bound by the loads.
     */
    static long minMax(byte[] src, int offset, int count, ByteOrder order) {
        IntVector lo0 = IntVector.broadcast(SPECIES, FusedFloat32.SORTABLE_POSITIVE_INFINITY);
        IntVector hi0 = IntVector.broadcast(SPECIES, FusedFloat32.SORTABLE_NEGATIVE_INFINITY);
        IntVector lo1 = lo0;
        IntVector hi1 = hi0;
        int at = offset;
        int end = offset + count * Float.BYTES;
        for (int bodyEnd = offset + count / (2 * LANES) * 2 * VECTOR_BYTES;
                at < bodyEnd;
                at += 2 * VECTOR_BYTES) {
            IntVector a = sortable(IntVector.fromByteArray(SPECIES, src, at, order));
            IntVector b = sortable(IntVector.fromByteArray(SPECIES, src, at + VECTOR_BYTES, order));
            lo0 = lo0.min(a);
            hi0 = hi0.max(a);
            lo1 = lo1.min(b);
            hi1 = hi1.max(b);
        }
        int lo = lo0.min(lo1).reduceLanes(VectorOperators.MIN);
        int hi = hi0.max(hi1).reduceLanes(VectorOperators.MAX);
        for (; at < end; at += Float.BYTES) {
            int s = sortableAt(src, at, order);
            lo = Math.min(lo, s);
            hi = Math.max(hi, s);
        }
        return (long) lo << 32 | (hi & 0xffffffffL);
    }

    /**
     * Elementwise into periodic lanes: the float at stream index p goes to {@code lo[p % A]} and
     * {@code hi[p % A]}, {@code A = lo.length}, a multiple of {@link #LANES}; {@code lane} is the
     * lane of the first float. Whole periods go {@link #BLOCK} at a time, so each lane vector is
     * loaded and stored once per block rather than once per period.
     */
    static void accumulate(
            byte[] src, int offset, int count, ByteOrder order, int[] lo, int[] hi, int lane) {
        int period = lo.length;
        int end = offset + count * Float.BYTES;
        // Up to the start of a period (or the end), then whole blocks, then the rest.
        int blockStart = offset + Math.min(count, lane == 0 ? 0 : period - lane) * Float.BYTES;
        int at = accumulateFrom(src, offset, blockStart, order, lo, hi, lane);
        int periodBytes = period * Float.BYTES;
        for (int blockEnd = at + (end - at) / (BLOCK * periodBytes) * (BLOCK * periodBytes);
                at < blockEnd;
                at += BLOCK * periodBytes) {
            for (int k = 0; k < period; k += LANES) {
                IntVector l = IntVector.fromArray(SPECIES, lo, k);
                IntVector h = IntVector.fromArray(SPECIES, hi, k);
                for (int p = at + k * Float.BYTES, r = 0; r < BLOCK; r++, p += periodBytes) {
                    IntVector v = sortable(IntVector.fromByteArray(SPECIES, src, p, order));
                    l = l.min(v);
                    h = h.max(v);
                }
                l.intoArray(lo, k);
                h.intoArray(hi, k);
            }
        }
        accumulateFrom(src, at, end, order, lo, hi, 0);
    }

    /**
     * Periods of lanes one vector at a time, from lane {@code k}, over {@code src[at, end)};
     * returns end.
     */
    private static int accumulateFrom(
            byte[] src, int at, int end, ByteOrder order, int[] lo, int[] hi, int k) {
        int period = lo.length;
        // Scalar up to the next lane multiple of LANES, so no vector straddles the period's end.
        for (; at < end && k % LANES != 0; at += Float.BYTES) {
            k = accumulateOne(src, at, order, lo, hi, k, period);
        }
        for (int bodyEnd = at + (end - at) / VECTOR_BYTES * VECTOR_BYTES;
                at < bodyEnd;
                at += VECTOR_BYTES) {
            IntVector v = sortable(IntVector.fromByteArray(SPECIES, src, at, order));
            IntVector.fromArray(SPECIES, lo, k).min(v).intoArray(lo, k);
            IntVector.fromArray(SPECIES, hi, k).max(v).intoArray(hi, k);
            k += LANES;
            if (k == period) {
                k = 0;
            }
        }
        for (; at < end; at += Float.BYTES) {
            k = accumulateOne(src, at, order, lo, hi, k, period);
        }
        return end;
    }

    private static int accumulateOne(
            byte[] src, int at, ByteOrder order, int[] lo, int[] hi, int k, int period) {
        int s = sortableAt(src, at, order);
        lo[k] = Math.min(lo[k], s);
        hi[k] = Math.max(hi[k], s);
        return k + 1 == period ? 0 : k + 1;
    }
}
