package io.qparams.observers;

/**
 * Reduces one float32 tensor, streamed in chunks in memory order, to its {@link BatchMinMax}:
 * {@code torch.aminmax(x)} for per-tensor observers, {@code torch.aminmax(y, dim=1)} over the
 * [C, N] view along {@code ch_axis} for per-channel ones. No per-element object is made; callers
 * decode their bytes into a reused {@code float[]} chunk and hand it over.
 *
 * <p>NaN anywhere in a row makes that row's min and max NaN (Math.min/max propagate NaN as torch's
 * aminmax does). Under {@link NonFinitePolicy#IGNORE} only finite values are reduced.
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

    private BatchReducer(NonFinitePolicy policy, long numel, boolean perChannel, int channels, long inner) {
        this.policy = policy;
        this.numel = numel;
        this.perChannel = perChannel;
        this.channels = channels;
        this.inner = inner;
        this.min = new float[channels];
        this.max = new float[channels];
        java.util.Arrays.fill(min, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
    }

    /**
     * A reducer for a tensor of the given shape, as the spec's observer reduces it.
     *
     * @param shape the dims as stored (numpy's {@code shape})
     * @param fortranOrder whether elements arrive in Fortran (column-major) order
     * @throws InvalidBatchException for a per-channel observer when ch_axis does not exist in a
     *     non-empty tensor, or when the shape is too large to index
     */
    public static BatchReducer forSpec(ObserverSpec spec, long[] shape, boolean fortranOrder, NonFinitePolicy policy)
            throws InvalidBatchException {
        long numel = numel(shape);
        if (!spec.isPerChannel() || numel == 0) {
            return new BatchReducer(policy, numel, false, 1, numel);
        }
        int ndim = shape.length;
        int axis = spec.chAxis() < 0 ? spec.chAxis() + ndim : spec.chAxis();
        if (ndim < 2 || axis < 0 || axis >= ndim) {
            throw new InvalidBatchException("ch_axis " + spec.chAxis() + " does not fit a " + ndim
                    + "-d batch of shape " + java.util.Arrays.toString(shape)
                    + " (per-channel observers need at least 2 dims)");
        }
        if (shape[axis] > Integer.MAX_VALUE) {
            throw new InvalidBatchException("too many channels: " + shape[axis]);
        }
        // A Fortran-order array is the C-order array of the reversed shape, so the axis is mirrored.
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
                throw new InvalidBatchException("negative dimension in shape " + java.util.Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new InvalidBatchException("shape " + java.util.Arrays.toString(shape) + " has too many elements");
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
            throw new IllegalStateException("more elements than the shape holds: " + (position + count) + " > " + numel);
        }
        boolean finiteOnly = policy == NonFinitePolicy.IGNORE;
        if (!perChannel) {
            reduceRun(values, from, to, 0, finiteOnly);
        } else if (inner == 1) {
            reduceRows(values, from, to, finiteOnly);
        } else {
            int i = from;
            while (i < to) {
                int channel = (int) ((position / inner) % channels);
                long offsetInRun = position % inner;
                int run = (int) Math.min(inner - offsetInRun, to - i);
                reduceRun(values, i, i + run, channel, finiteOnly);
                i += run;
                position += run;
            }
            return;
        }
        position += count;
    }

    private void reduceRun(float[] values, int from, int to, int channel, boolean finiteOnly) {
        float mn = min[channel];
        float mx = max[channel];
        if (finiteOnly) {
            for (int i = from; i < to; i++) {
                float v = values[i];
                if (Float.isFinite(v)) {
                    mn = Math.min(mn, v);
                    mx = Math.max(mx, v);
                }
            }
        } else {
            for (int i = from; i < to; i++) {
                float v = values[i];
                mn = Math.min(mn, v);
                mx = Math.max(mx, v);
            }
        }
        min[channel] = mn;
        max[channel] = mx;
    }

    /** ch_axis is the innermost axis: consecutive elements belong to consecutive channels. */
    private void reduceRows(float[] values, int from, int to, boolean finiteOnly) {
        int channel = (int) (position % channels);
        for (int i = from; i < to; i++) {
            float v = values[i];
            if (!finiteOnly || Float.isFinite(v)) {
                min[channel] = Math.min(min[channel], v);
                max[channel] = Math.max(max[channel], v);
            }
            if (++channel == channels) {
                channel = 0;
            }
        }
    }

    /**
     * The batch's min/max, after the non-finite policy.
     *
     * @throws InvalidBatchException if fewer elements arrived than the shape holds, or the policy
     *     refuses the batch
     */
    public BatchMinMax finish() throws InvalidBatchException {
        if (numel == 0) {
            throw new IllegalStateException("an empty batch has no min/max: check isEmpty() first");
        }
        if (position != numel) {
            throw new InvalidBatchException("batch holds " + position + " values but its shape needs " + numel);
        }
        if (policy == NonFinitePolicy.IGNORE) {
            for (int c = 0; c < channels; c++) {
                if (min[c] == Float.POSITIVE_INFINITY && max[c] == Float.NEGATIVE_INFINITY) {
                    throw new InvalidBatchException("batch holds no finite values"
                            + (perChannel ? " in channel " + c : "") + " (nonfinite: ignore)");
                }
            }
        }
        BatchMinMax result = perChannel ? BatchMinMax.perChannel(min.clone(), max.clone())
                : BatchMinMax.perTensor(min[0], max[0]);
        return result.checkFinite(policy == NonFinitePolicy.IGNORE ? NonFinitePolicy.PROPAGATE : policy);
    }
}
