package io.qparams.observers;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * BatchReducer against a trivially correct reduction: one Math.min/Math.max per element over the
 * [C, N] view torch's aminmax reduces, for random shapes, axes, orders, chunkings and non-finite
 * placements under every policy, through accept (float chunks) and acceptFloat32 (bytes in either
 * order at any offset) with the fused vector path on and off. Floats compare by bits (NaN by
 * NaN-ness), zeros with == (torch's sign of a zero result is unpredictable).
 */
class BatchReducerTest {
    private static final float[] SPECIALS = {
        Float.NaN,
        Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY,
        -0.0f,
        0.0f,
        Float.MIN_VALUE,
        -Float.MIN_VALUE,
        0x1.0p-130f,
        -0x1.fffffcp-127f,
        Float.MAX_VALUE,
        -Float.MAX_VALUE,
        Float.MIN_NORMAL,
        // NaNs of either sign with payloads: they sort outside +-inf only as sortable ints, not as
        // raw ones.
        Float.intBitsToFloat(0x7f800001),
        Float.intBitsToFloat(0x7fffffff),
        Float.intBitsToFloat(0xff800001),
        Float.intBitsToFloat(0xffc00000),
        Float.intBitsToFloat(0xffffffff),
        Float.intBitsToFloat(0xffa5a5a5),
    };
    private static final int[] NAN_BITS = {
        0x7f800001, 0x7fc00000, 0x7fffffff, 0xff800001, 0xffc00000, 0xffffffff
    };

    /**
     * The ways a batch reaches the reducer: float chunks, or bytes with the fused path on or off.
     */
    private enum Feed {
        FLOATS,
        BYTES_FUSED,
        BYTES_COPIED
    }

    /** The reference: channel of each element from its multi-index, no chunking, no tricks. */
    private static Object reference(
            float[] data, long[] shape, boolean fortran, int axis, NonFinitePolicy policy) {
        int ndim = shape.length;
        int channels = axis < 0 ? 1 : (int) shape[axis];
        float[] min = new float[channels];
        float[] max = new float[channels];
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        long[] index = new long[ndim];
        for (int i = 0; i < data.length; i++) {
            long rest = i;
            // C order: last dim varies fastest; Fortran: first dim does.
            for (int k = 0; k < ndim; k++) {
                int d = fortran ? k : ndim - 1 - k;
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            int c = axis < 0 ? 0 : (int) index[axis];
            float v = data[i];
            if (policy == NonFinitePolicy.IGNORE && !Float.isFinite(v)) {
                continue;
            }
            min[c] = Math.min(min[c], v);
            max[c] = Math.max(max[c], v);
        }
        for (int c = 0; c < channels; c++) {
            boolean finite = Float.isFinite(min[c]) && Float.isFinite(max[c]);
            if (policy == NonFinitePolicy.IGNORE && min[c] == Float.POSITIVE_INFINITY) {
                return "no finite values";
            }
            if (policy == NonFinitePolicy.REJECT && !finite) {
                return "non-finite";
            }
        }
        return new float[][] {min, max};
    }

    /** The counts the record reports, by the float's own predicates rather than its bits. */
    private static ValueCounts referenceCounts(float[] data) {
        long nonFinite = 0;
        long zeros = 0;
        for (float v : data) {
            if (Float.isNaN(v) || Float.isInfinite(v)) {
                nonFinite++;
            } else if (v == 0f) {
                zeros++;
            }
        }
        return new ValueCounts(data.length, nonFinite, zeros);
    }

    private static Object reduce(
            float[] data,
            long[] shape,
            boolean fortran,
            ObserverSpec spec,
            NonFinitePolicy policy,
            Random random,
            int chunkMode,
            Feed feed)
            throws InvalidBatchException {
        boolean fusedBefore = FusedFloat32.enabled;
        FusedFloat32.enabled = feed == Feed.BYTES_FUSED && FusedFloat32.AVAILABLE;
        try {
            BatchReducer reducer = BatchReducer.forSpec(spec, shape, fortran, policy);
            assertEquals(data.length, reducer.numel());
            if (reducer.isEmpty()) {
                return "empty";
            }
            if (feed == Feed.FLOATS) {
                acceptFloats(reducer, data, random, chunkMode);
            } else {
                acceptBytes(reducer, data, random, chunkMode);
            }
            BatchMinMax result = reducer.finish();
            assertEquals(referenceCounts(data), result.counts(), "counts, " + feed);
            return new float[][] {result.min(), result.max()};
        } catch (InvalidBatchException e) {
            // Refused by the policy after the pass: the refusal still tells what the batch held.
            assertEquals(referenceCounts(data), e.counts(), "counts of a refused batch, " + feed);
            String message = e.getMessage();
            return message.contains("no finite") ? "no finite values" : "non-finite";
        } finally {
            FusedFloat32.enabled = fusedBefore;
        }
    }

    private static int pieceLength(Random random, int chunkMode, int fixed, int n) {
        return chunkMode == 0
                ? fixed
                : 1 + random.nextInt(Math.min(20_000, 1 + random.nextInt(3 * n + 1)));
    }

    /**
     * The record's bytes in a random order at a random (often odd) offset, with NaN bytes around
     * them, fed whole or in pieces; now and then a piece goes through accept instead.
     */
    private static void acceptBytes(
            BatchReducer reducer, float[] data, Random random, int chunkMode) {
        ByteOrder order = random.nextBoolean() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        int offset = random.nextInt(9);
        ByteBuffer bytes = ByteBuffer.allocate(offset + data.length * Float.BYTES + 5).order(order);
        Arrays.fill(bytes.array(), (byte) 0xff); // -NaN everywhere outside the data
        for (int i = 0; i < data.length; i++) {
            bytes.putInt(offset + i * Float.BYTES, Float.floatToRawIntBits(data[i]));
        }
        int fixed =
                random.nextInt(3) == 0
                        ? data.length
                        : new int[] {1, 7, 8192, 64, 3, 1000, 17, 250}[random.nextInt(8)];
        for (int at = 0; at < data.length; ) {
            int len =
                    Math.min(pieceLength(random, chunkMode, fixed, data.length), data.length - at);
            if (chunkMode == 1 && random.nextInt(8) == 0) {
                reducer.accept(data, at, at + len);
            } else {
                reducer.acceptFloat32(bytes.array(), offset + at * Float.BYTES, len, order);
            }
            at += len;
            assertEquals(data.length - at, reducer.remaining());
        }
    }

    private static void acceptFloats(
            BatchReducer reducer, float[] data, Random random, int chunkMode) {
        int fixed = new int[] {1, 7, 8192, 64, 3, 1000}[random.nextInt(6)];
        float[] chunk = new float[20_000 + 17];
        for (int at = 0; at < data.length; ) {
            int len =
                    Math.min(pieceLength(random, chunkMode, fixed, data.length), data.length - at);
            // Callers may hand any slice of their array: sometimes from 0, sometimes at an offset.
            int from = random.nextBoolean() ? 0 : random.nextInt(chunk.length - len + 1);
            System.arraycopy(data, at, chunk, from, len);
            // Junk right outside the slice must not be read.
            if (from > 0) {
                chunk[from - 1] = Float.NaN;
            }
            if (from + len < chunk.length) {
                chunk[from + len] = Float.NEGATIVE_INFINITY;
            }
            reducer.accept(chunk, from, from + len);
            at += len;
            assertEquals(data.length - at, reducer.remaining());
        }
    }

    private static void assertSame(Object expected, Object actual, String what) {
        if (expected instanceof String || actual instanceof String) {
            assertEquals(expected, actual, what);
            return;
        }
        float[][] e = (float[][]) expected;
        float[][] a = (float[][]) actual;
        for (int m = 0; m < 2; m++) {
            assertEquals(e[m].length, a[m].length, what);
            for (int c = 0; c < e[m].length; c++) {
                float x = e[m][c];
                float y = a[m][c];
                boolean same =
                        x == 0f ? y == 0f : Float.floatToIntBits(x) == Float.floatToIntBits(y);
                if (!same) {
                    fail(
                            what
                                    + ": "
                                    + (m == 0 ? "min" : "max")
                                    + "["
                                    + c
                                    + "] expected "
                                    + x
                                    + " but was "
                                    + y);
                }
            }
        }
    }

    private static float[] randomData(Random random, int n) {
        float[] data = new float[n];
        int kind = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            data[i] =
                    switch (kind) {
                        case 0 -> (float) random.nextGaussian();
                        case 1 ->
                                (float)
                                        (random.nextGaussian()
                                                * Math.pow(10, random.nextInt(60) - 30));
                        case 2 ->
                                Float.intBitsToFloat(
                                        random.nextInt()); // any bit pattern, NaNs and subnormals
                        // too
                        default -> random.nextInt(5) - 2; // many ties and zeros
                    };
            if (kind != 2 && random.nextInt(50) == 0) {
                data[i] = random.nextBoolean() ? -0.0f : 0.0f;
            }
        }
        // A few specials at random places; sometimes none (then whole batches stay finite).
        int specials = random.nextInt(3) == 0 ? 0 : random.nextInt(4);
        for (int s = 0; s < specials && n > 0; s++) {
            data[random.nextInt(n)] = SPECIALS[random.nextInt(SPECIALS.length)];
        }
        return data;
    }

    private static long[] randomShape(Random random) {
        int ndim = random.nextInt(5); // 0-d to 4-d
        long[] shape = new long[ndim];
        int budget = random.nextInt(4) == 0 ? 40_000 : 600;
        for (int d = 0; d < ndim; d++) {
            int r = random.nextInt(10);
            shape[d] =
                    r == 0
                            ? 1
                            : r == 1 && random.nextInt(8) == 0
                                    ? 0
                                    : 1
                                            + random.nextInt(
                                                    Math.max(1, (int) Math.pow(budget, 1.0 / ndim))
                                                            + 1);
        }
        return shape;
    }

    @Test
    void matchesTheReferenceOnRandomBatches() throws InvalidBatchException {
        Random random = new Random(7);
        for (int trial = 0; trial < 2000; trial++) {
            long[] shape = randomShape(random);
            int n = (int) BatchReducer.numel(shape);
            float[] data = randomData(random, n);
            boolean fortran = random.nextBoolean();
            NonFinitePolicy policy = NonFinitePolicy.values()[random.nextInt(3)];
            boolean perChannel = shape.length >= 2 && random.nextBoolean();
            int axis = perChannel ? random.nextInt(shape.length) : -1;
            ObserverSpec spec =
                    perChannel
                            ? ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver)
                                    .chAxis(random.nextBoolean() ? axis : axis - shape.length)
                                    .build()
                            : ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
            String what =
                    "trial "
                            + trial
                            + " shape "
                            + Arrays.toString(shape)
                            + (fortran ? " F" : " C")
                            + " axis "
                            + axis
                            + " "
                            + policy;
            Object expected = n == 0 ? "empty" : reference(data, shape, fortran, axis, policy);
            for (int chunkMode = 0; chunkMode < 2; chunkMode++) {
                for (Feed feed : Feed.values()) {
                    assertSame(
                            expected,
                            reduce(data, shape, fortran, spec, policy, random, chunkMode, feed),
                            what + " " + feed + " chunks " + chunkMode);
                }
            }
        }
    }

    /**
     * Long runs and wide rows take the vectorized kernels, with NaN and infinities at every lane.
     */
    @Test
    void nonFiniteValuesAnywhereInLongRunsAndWideRows() throws InvalidBatchException {
        Random random = new Random(11);
        long[][] shapes = {
            {1 << 16},
            {8, 9000},
            {9000, 8},
            {3, 64, 70},
            {40_000, 3},
            {2, 20_000},
            {5, 16_500},
            {4, 16, 7, 7},
            {300, 24},
            {2, 64, 300},
            {3, 997, 5}
        };
        for (long[] shape : shapes) {
            int n = (int) BatchReducer.numel(shape);
            for (int trial = 0; trial < 12; trial++) {
                float[] data = randomData(random, n);
                for (int s = 0; s < 1 + random.nextInt(3); s++) {
                    data[random.nextInt(n)] = SPECIALS[random.nextInt(3)];
                }
                for (NonFinitePolicy policy : NonFinitePolicy.values()) {
                    for (int axis = -1; axis < shape.length; axis++) {
                        if (axis >= 0 && shape.length < 2) {
                            continue;
                        }
                        ObserverSpec spec =
                                axis < 0
                                        ? ObserverSpec.builder(ObserverKind.MinMaxObserver).build()
                                        : ObserverSpec.builder(
                                                        ObserverKind.PerChannelMinMaxObserver)
                                                .chAxis(axis)
                                                .build();
                        boolean fortran = random.nextBoolean();
                        Object expected = reference(data, shape, fortran, axis, policy);
                        for (Feed feed : Feed.values()) {
                            assertSame(
                                    expected,
                                    reduce(
                                            data, shape, fortran, spec, policy, random, trial % 2,
                                            feed),
                                    Arrays.toString(shape)
                                            + " axis "
                                            + axis
                                            + " "
                                            + policy
                                            + " "
                                            + feed);
                        }
                    }
                }
            }
        }
    }

    /**
     * The build runs the tests with the module: the fused path must then be in use, not silently
     * skipped.
     */
    @Test
    void fusedPathIsAvailableWhenTheModuleIs() {
        assertEquals(
                ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                        && !"false".equalsIgnoreCase(System.getProperty("qparams.vector")),
                FusedFloat32.AVAILABLE);
    }

    /**
     * Every NaN class (sign, quiet or not, payload) at every position of a vector-and-a-bit makes
     * both NaN.
     */
    @Test
    void everyNanPatternAtEveryLaneMakesBothNan() throws InvalidBatchException {
        ObserverSpec perTensor = ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
        ObserverSpec lastAxis =
                ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver).chAxis(-1).build();
        int n = 132; // [33, 4] along the innermost axis: enough rows for the periodic lanes
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            for (int nanBits : NAN_BITS) {
                for (int at = 0; at < n; at++) {
                    ByteBuffer bytes = ByteBuffer.allocate(1 + n * Float.BYTES).order(order);
                    for (int i = 0; i < n; i++) {
                        bytes.putFloat(1 + i * Float.BYTES, i % 5 - 2f);
                    }
                    bytes.putInt(1 + at * Float.BYTES, nanBits);
                    String what = order + " " + Integer.toHexString(nanBits) + " at " + at;
                    BatchReducer reducer =
                            BatchReducer.forSpec(
                                    perTensor, new long[] {n}, false, NonFinitePolicy.PROPAGATE);
                    reducer.acceptFloat32(bytes.array(), 1, n, order);
                    BatchMinMax result = reducer.finish();
                    assertTrue(
                            Float.isNaN(result.min(0)) && Float.isNaN(result.max(0)),
                            what + ": " + result);
                    reducer =
                            BatchReducer.forSpec(
                                    lastAxis,
                                    new long[] {n / 4, 4},
                                    false,
                                    NonFinitePolicy.PROPAGATE);
                    reducer.acceptFloat32(bytes.array(), 1, n, order);
                    result = reducer.finish();
                    for (int c = 0; c < 4; c++) {
                        boolean nan = c == at % 4;
                        assertEquals(nan, Float.isNaN(result.min(c)), what + ": " + result);
                        assertEquals(nan, Float.isNaN(result.max(c)), what + ": " + result);
                    }
                }
            }
        }
    }

    @Test
    void nanGivesBothNanAndInfinitiesCountUnderPropagate() throws InvalidBatchException {
        float[] values = new float[10_000];
        Arrays.fill(values, 1f);
        values[4321] = Float.NaN;
        values[17] = Float.NEGATIVE_INFINITY;
        BatchMinMax result = perTensorMinMaxPropagating(values);
        assertTrue(Float.isNaN(result.min(0)) && Float.isNaN(result.max(0)), result.toString());

        values[4321] = 2f;
        assertEquals(
                BatchMinMax.perTensor(Float.NEGATIVE_INFINITY, 2f),
                perTensorMinMaxPropagating(values));
    }

    /** A MinMaxObserver's reduction of one flat batch under {@code nonfinite: propagate}. */
    private static BatchMinMax perTensorMinMaxPropagating(float[] values)
            throws InvalidBatchException {
        BatchReducer reducer =
                BatchReducer.forSpec(
                        ObserverSpec.builder(ObserverKind.MinMaxObserver).build(),
                        new long[] {values.length},
                        false,
                        NonFinitePolicy.PROPAGATE);
        reducer.accept(values, 0, values.length);
        return reducer.finish();
    }

    @Test
    void emptyTensorsAndMiscountsAreRefused() throws InvalidBatchException {
        ObserverSpec perTensor = ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
        BatchReducer empty =
                BatchReducer.forSpec(perTensor, new long[] {3, 0}, false, NonFinitePolicy.REJECT);
        assertTrue(empty.isEmpty());
        assertThrows(IllegalStateException.class, empty::finish);

        BatchReducer reducer =
                BatchReducer.forSpec(perTensor, new long[] {4}, false, NonFinitePolicy.REJECT);
        reducer.accept(new float[] {1, 2, 3}, 0, 3);
        assertThrows(InvalidBatchException.class, reducer::finish);
        assertThrows(IllegalStateException.class, () -> reducer.accept(new float[] {1, 2}, 0, 2));
        reducer.accept(new float[] {-5}, 0, 1); // finish may be retried once the rest arrived
        assertEquals(BatchMinMax.perTensor(-5f, 3f), reducer.finish());
    }
}
