package io.qparams.observers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Reduces one float32 tensor, streamed in chunks in memory order, to its {@link BatchMinMax}:
 * {@code torch.aminmax(x)} for per-tensor observers, {@code torch.aminmax(y, dim=1)} over the [C,
 * N] view along {@code ch_axis} for per-channel ones. No per-element object is made; callers decode
 * their bytes into a reused {@code float[]} chunk and hand it over.
 *
 * <p>NaN anywhere in a row makes that row's min and max NaN (Math.min/max propagate NaN as torch's
 * aminmax does). Under {@link NonFinitePolicy#IGNORE} only finite values are reduced.
 *
 * <p>Speed (benchmarks/, BENCHMARKS.md): the reject/propagate paths are written so JDK 17's C2
 * vectorizes them, which it does only for elementwise loops that index every float array with the
 * same loop variable (plus constant offsets that are multiples of the vector width). Chunks reused
 * from index 0, with a length that is a multiple of the channel count, take the fastest path;
 * ignore runs value by value.
 *
 * <p>{@link #acceptFloat32} takes float32 bytes as they arrive (an NPY record's data) and, when the
 * JVM runs with {@code --add-modules jdk.incubator.vector}, reduces them in place with {@link
 * FusedFloat32}, several times faster than copy + accept; otherwise it copies and accepts.
 *
 * <p>The same pass counts the values that are non-finite and those that are zero ({@link
 * ValueCounts}, the record's {@code nonfinite} and {@code zeros}): in the vector kernels as they
 * reduce ({@link VectorKernels}), or, for float chunks, over each chunk while it is in cache.
 */
public final class BatchReducer {
    private final NonFinitePolicy policy;
    private final long numel;
    private final boolean perChannel;
    private final int channels;

    /** Elements per contiguous channel run: the product of the dims after ch_axis (C order). */
    private final long inner;

    private final float[] min;
    private final float[] max;
    private long position;

    /** [0] the non-finite values so far, [1] the zeros. */
    private final long[] tally = new long[2];

    /**
     * Beyond this index a chunk is copied into {@link #window} before the lane kernels run, so the
     * lanes stay within 64 KiB each (plus the channel count on the innermost-axis path).
     */
    private static final int MAX_DIRECT_INDEX = 1 << 14;

    /** Lane distance of the run kernel: a multiple of the widest vector, 16 floats. */
    private static final int STRIDE = 64;

    private static final float[] NONE = new float[0];

    /** Vector lanes, indexed as the chunk handed to accept (see accumulateLanes). */
    private float[] laneMin = NONE;

    private float[] laneMax = NONE;

    /** Lane k holds channel (k + lanePhase) % channels; -1 while no lane holds anything. */
    private int lanePhase = -1;

    private float[] window = NONE;

    /** acceptFloat32's fused path once decided (null: copy into {@link #decoded} and accept). */
    private FusedFloat32 fused;

    private boolean fusedDecided;
    private float[] decoded = NONE;
    private static final int DECODED_FLOATS = 8192;

    private BatchReducer(
            NonFinitePolicy policy, long numel, boolean perChannel, int channels, long inner) {
        this.policy = policy;
        this.numel = numel;
        this.perChannel = perChannel;
        this.channels = channels;
        this.inner = inner;
        this.min = new float[channels];
        this.max = new float[channels];
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
    }

    /**
     * A reducer for a tensor of the given shape, as the spec's observer reduces it.
     *
     * @param shape the dims as stored (numpy's {@code shape})
     * @param fortranOrder whether elements arrive in Fortran (column-major) order
     * @throws InvalidBatchException for a per-channel observer when ch_axis does not exist in a
     *     non-empty tensor, or when the shape is too large to index
     */
    public static BatchReducer forSpec(
            ObserverSpec spec, long[] shape, boolean fortranOrder, NonFinitePolicy policy)
            throws InvalidBatchException {
        long numel = numel(shape);
        if (!spec.isPerChannel() || numel == 0) {
            return new BatchReducer(policy, numel, false, 1, numel);
        }
        int ndim = shape.length;
        int axis = spec.chAxis() < 0 ? spec.chAxis() + ndim : spec.chAxis();
        if (ndim < 2 || axis < 0 || axis >= ndim) {
            throw new InvalidBatchException(
                    "ch_axis "
                            + spec.chAxis()
                            + " does not fit a "
                            + ndim
                            + "-d batch of shape "
                            + Arrays.toString(shape)
                            + " (per-channel observers need at least 2 dims)");
        }
        if (shape[axis] > Integer.MAX_VALUE) {
            throw new InvalidBatchException("too many channels: " + shape[axis]);
        }
        // A Fortran-order array is the C-order array of the reversed shape, so the axis is
        // mirrored.
        long inner = 1;
        for (int d = 0; d < ndim; d++) {
            boolean after = fortranOrder ? d < axis : d > axis;
            if (after) {
                inner *= shape[d];
            }
        }
        return new BatchReducer(policy, numel, true, (int) shape[axis], inner);
    }

    /** Product of the dims; refused when it does not fit in a long. */
    public static long numel(long[] shape) throws InvalidBatchException {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new InvalidBatchException(
                        "negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new InvalidBatchException(
                        "shape " + Arrays.toString(shape) + " has too many elements");
            }
        }
        return n;
    }

    public long numel() {
        return numel;
    }

    /** An empty tensor changes nothing in torch: callers skip it. */
    public boolean isEmpty() {
        return numel == 0;
    }

    /** Elements still expected. */
    public long remaining() {
        return numel - position;
    }

    /** Reduces {@code values[from, to)}, the next elements in memory order. */
    public void accept(float[] values, int from, int to) {
        int count = to - from;
        if (count > numel - position) {
            throw new IllegalStateException(
                    "more elements than the shape holds: " + (position + count) + " > " + numel);
        }
        if (count <= 0) {
            return;
        }
        count(values, from, to);
        if (policy == NonFinitePolicy.IGNORE) {
            acceptFinite(values, from, to);
        } else if (!perChannel || inner == 1) {
            accumulateLanes(values, from, to);
        } else {
            reduceRuns(values, from, to);
        }
        position += count;
    }

    /**
     * Reduces the next {@code count} float32 values, stored in {@code order} at {@code
     * src[offset]}, in memory order as {@link #accept}. Same results as decoding them and calling
     * accept, except that the sign of a zero result may differ and a NaN result may lose its
     * payload.
     */
    public void acceptFloat32(byte[] src, int offset, int count, ByteOrder order) {
        if (offset < 0
                || count < 0
                || offset > src.length
                || count > (src.length - offset) / Float.BYTES) {
            throw new IndexOutOfBoundsException(
                    count + " floats at byte " + offset + " of " + src.length);
        }
        if (count > numel - position) {
            throw new IllegalStateException(
                    "more elements than the shape holds: " + (position + count) + " > " + numel);
        }
        if (!fusedDecided) {
            fused =
                    policy == NonFinitePolicy.IGNORE
                            ? null
                            : FusedFloat32.forShape(perChannel ? channels : 1, inner, numel);
            fusedDecided = true;
        }
        if (fused != null) {
            fused.accept(src, offset, count, order, position, min, max, tally);
            position += count;
            return;
        }
        if (decoded.length == 0) {
            decoded =
                    new float
                            [(int)
                                    Math.min(
                                            DECODED_FLOATS,
                                            numel)]; // never more than the record holds
        }
        FloatBuffer floats =
                ByteBuffer.wrap(src, offset, count * Float.BYTES).order(order).asFloatBuffer();
        while (floats.hasRemaining()) {
            int n = Math.min(decoded.length, floats.remaining());
            floats.get(decoded, 0, n);
            accept(decoded, 0, n);
        }
    }

    /** Adds the chunk's non-finite values and zeros to {@link #tally}, while it is in cache. */
    private void count(float[] values, int from, int to) {
        FusedFloat32.count(values, from, to, tally);
    }

    /**
     * Per-tensor, or ch_axis innermost: every value goes into its lane, {@code lane = min(lane, v)}
     * elementwise, folded into its channel only in {@link #finish}. Lane k holds channel {@code (k
     * + lanePhase) % channels}; a chunk whose phase differs, or that reaches past {@link
     * #MAX_DIRECT_INDEX}, is first copied into {@link #window} where its phase fits.
     */
    private void accumulateLanes(float[] values, int from, int to) {
        int phase = Math.floorMod((int) (position % channels) - from, channels);
        if (lanePhase < 0) {
            lanePhase = phase;
        }
        if (phase == lanePhase && to <= MAX_DIRECT_INDEX) {
            minMaxInto(values, from, to);
            return;
        }
        for (int i = from; i < to; ) {
            int len = Math.min(to - i, MAX_DIRECT_INDEX);
            int lane =
                    Math.floorMod((int) ((position + (i - from)) % channels) - lanePhase, channels);
            if (window.length < lane + len) {
                window = new float[lane + len];
            }
            System.arraycopy(values, i, window, lane, len);
            minMaxInto(window, lane, lane + len);
            i += len;
        }
    }

    /**
     * {@code laneMin[k] = min(laneMin[k], src[k])}, likewise max: one index for every array, so C2
     * vectorizes it (JDK 17's SuperWord gives up when two float arrays are indexed with different
     * offsets); Math.min/max keep torch's NaN propagation lane by lane.
     */
    private void minMaxInto(float[] src, int from, int to) {
        ensureLanes(to);
        float[] lo = laneMin;
        float[] hi = laneMax;
        for (int k = from; k < to; k++) {
            lo[k] = Math.min(lo[k], src[k]);
            hi[k] = Math.max(hi[k], src[k]);
        }
    }

    /**
     * ch_axis not innermost: each contiguous run of {@code inner} values belongs to one channel.
     */
    private void reduceRuns(float[] values, int from, int to) {
        long at = position;
        for (int i = from; i < to; ) {
            int channel = (int) ((at / inner) % channels);
            int run = (int) Math.min(inner - at % inner, to - i);
            for (int w = i; w < i + run; w += MAX_DIRECT_INDEX) {
                int len = Math.min(i + run - w, MAX_DIRECT_INDEX);
                if (len < 4 * STRIDE) {
                    reduceRun(values, w, w + len, channel, false);
                } else if (w + len <= MAX_DIRECT_INDEX) {
                    reduceRunStrided(values, w, w + len, channel);
                } else {
                    if (window.length < len) {
                        window = new float[len];
                    }
                    System.arraycopy(values, w, window, 0, len);
                    reduceRunStrided(window, 0, len, channel);
                }
            }
            i += run;
            at += run;
        }
    }

    /**
     * One run into one channel, vectorized: the lanes hold running minima {@link #STRIDE} apart,
     * {@code lane[k] = min(lane[k - STRIDE], src[k])} (constant offsets keep SuperWord's alignment
     * check happy), so the last STRIDE lanes cover every value of the run.
     */
    private void reduceRunStrided(float[] src, int from, int to, int channel) {
        ensureLanes(to);
        float[] lo = laneMin;
        float[] hi = laneMax;
        System.arraycopy(src, from, lo, from, STRIDE);
        System.arraycopy(src, from, hi, from, STRIDE);
        for (int k = from + STRIDE; k < to; k++) {
            lo[k] = Math.min(lo[k - STRIDE], src[k]);
            hi[k] = Math.max(hi[k - STRIDE], src[k]);
        }
        float mn = min[channel];
        float mx = max[channel];
        for (int k = to - STRIDE; k < to; k++) {
            mn = Math.min(mn, lo[k]);
            mx = Math.max(mx, hi[k]);
        }
        min[channel] = mn;
        max[channel] = mx;
    }

    /** Grows the lanes to hold index {@code to - 1}; new lanes start empty (+inf, -inf). */
    private void ensureLanes(int to) {
        int old = laneMin.length;
        if (old >= to) {
            return;
        }
        int size = Math.max(to, Math.min(2 * old, MAX_DIRECT_INDEX));
        laneMin = Arrays.copyOf(laneMin, size);
        laneMax = Arrays.copyOf(laneMax, size);
        Arrays.fill(laneMin, old, size, Float.POSITIVE_INFINITY);
        Arrays.fill(laneMax, old, size, Float.NEGATIVE_INFINITY);
    }

    /** Folds the lanes of {@link #accumulateLanes} into their channels. */
    private void foldLanes() {
        if (lanePhase < 0) {
            return;
        }
        float[] lo = laneMin;
        float[] hi = laneMax;
        if (channels == 1) {
            float mn = min[0];
            float mx = max[0];
            for (int k = 0; k < lo.length; k++) {
                mn = Math.min(mn, lo[k]);
                mx = Math.max(mx, hi[k]);
            }
            min[0] = mn;
            max[0] = mx;
        } else {
            int channel = lanePhase;
            for (int k = 0; k < lo.length; k++) {
                min[channel] = Math.min(min[channel], lo[k]);
                max[channel] = Math.max(max[channel], hi[k]);
                if (++channel == channels) {
                    channel = 0;
                }
            }
        }
        Arrays.fill(lo, Float.POSITIVE_INFINITY);
        Arrays.fill(hi, Float.NEGATIVE_INFINITY);
        lanePhase = -1;
    }

    /** {@link NonFinitePolicy#IGNORE}: only finite values count, value by value. */
    private void acceptFinite(float[] values, int from, int to) {
        if (!perChannel) {
            reduceRun(values, from, to, 0, true);
        } else if (inner == 1) {
            reduceRows(values, from, to);
        } else {
            long at = position;
            for (int i = from; i < to; ) {
                int channel = (int) ((at / inner) % channels);
                int run = (int) Math.min(inner - at % inner, to - i);
                reduceRun(values, i, i + run, channel, true);
                i += run;
                at += run;
            }
        }
    }

    private void reduceRun(float[] values, int from, int to, int channel, boolean finiteOnly) {
        float mn = min[channel];
        float mx = max[channel];
        for (int i = from; i < to; i++) {
            float v = values[i];
            if (!finiteOnly || Float.isFinite(v)) {
                mn = Math.min(mn, v);
                mx = Math.max(mx, v);
            }
        }
        min[channel] = mn;
        max[channel] = mx;
    }

    /** ch_axis is the innermost axis, finite values only. */
    private void reduceRows(float[] values, int from, int to) {
        int channel = (int) (position % channels);
        for (int i = from; i < to; i++) {
            float v = values[i];
            if (Float.isFinite(v)) {
                min[channel] = Math.min(min[channel], v);
                max[channel] = Math.max(max[channel], v);
            }
            if (++channel == channels) {
                channel = 0;
            }
        }
    }

    /** What the batch held: complete once the kernels' lanes are folded (in finish). */
    private ValueCounts counts() {
        return new ValueCounts(position, tally[0], tally[1]);
    }

    /**
     * The batch's min/max, after the non-finite policy, with its {@link #counts}.
     *
     * @throws InvalidBatchException if fewer elements arrived than the shape holds, or the policy
     *     refuses the batch (the exception then carries the counts)
     */
    public BatchMinMax finish() throws InvalidBatchException {
        if (numel == 0) {
            throw new IllegalStateException("an empty batch has no min/max: check isEmpty() first");
        }
        if (position != numel) {
            throw new InvalidBatchException(
                    "batch holds " + position + " values but its shape needs " + numel);
        }
        foldLanes();
        if (fused != null) {
            fused.finish(min, max, tally);
        }
        ValueCounts counts = counts();
        if (policy == NonFinitePolicy.IGNORE) {
            for (int c = 0; c < channels; c++) {
                if (min[c] == Float.POSITIVE_INFINITY && max[c] == Float.NEGATIVE_INFINITY) {
                    throw InvalidBatchException.nonFinite(
                                    "batch holds no finite values"
                                            + (perChannel ? " in channel " + c : "")
                                            + " (nonfinite: ignore)")
                            .withCounts(counts);
                }
            }
        }
        BatchMinMax result =
                perChannel
                        ? BatchMinMax.perChannel(min.clone(), max.clone())
                        : BatchMinMax.perTensor(min[0], max[0]);
        try {
            result.checkFinite(
                    policy == NonFinitePolicy.IGNORE ? NonFinitePolicy.PROPAGATE : policy);
        } catch (InvalidBatchException e) {
            throw e.withCounts(counts);
        }
        return result.withCounts(counts);
    }
}
