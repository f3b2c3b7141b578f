package io.qparams.benchmarks;

import io.qparams.observers.BatchMinMax;
import io.qparams.observers.BatchReducer;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Throughput of {@link BatchReducer} on one 4 MiB float32 batch, as the NPY decoder meets it: the
 * little-endian bytes of a Kafka record value. {@code perTensor} and {@code perChannel*} hand the
 * {@code byte[]} to {@code acceptFloat32}, the production path (fused with the Vector API, which
 * the fork's JVM has); the {@code copy*} twins decode chunk by chunk into a reused {@code float[]}
 * and call {@code accept}, the path without the module.
 *
 * <p>Every benchmark counts one operation per byte of the batch ({@link OperationsPerInvocation}),
 * so JMH's ops/s are bytes/s and the scores compare directly with the baselines, which read the
 * same bytes and do nothing else. Targets: per-tensor at least 0.8x and per-channel at least 0.5x
 * the faster baseline's bytes/s, measured in the same run (bin/bench prints the ratios).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(BatchReducerBenchmark.BYTES)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BatchReducerBenchmark {
    static final int BYTES = 4 << 20;
    static final int FLOATS = BYTES / Float.BYTES;

    /**
     * Floats per decoded chunk: 32 KiB, small enough to stay in L1/L2 between decode and reduce.
     */
    static final int CHUNK = 8192;

    private static final ObserverSpec PER_TENSOR =
            ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
    private static final long[] FLAT = {FLOATS};
    private static final long[] CHANNELS_FIRST = {64, FLOATS / 64};
    private static final long[] CHANNELS_LAST = {FLOATS / 64, 64};
    private static final long[] NCHW = {16, 64, 32, 32};
    private static final long[] NCHW_SMALL = {256, 64, 8, 8};

    private ByteBuffer bytes;
    private final float[] chunk = new float[CHUNK];
    private final long[] longChunk = new long[CHUNK / 2];

    /**
     * Activations as a conv/linear layer emits them: per-channel Gaussian with its own scale and
     * offset, roughly half clipped at 0 by a ReLU, and a rare large outlier. Fixed seed.
     */
    @Setup
    public void makeBatch() {
        Random random = new Random(20240601L);
        float[] scale = new float[64];
        float[] offset = new float[64];
        for (int c = 0; c < 64; c++) {
            scale[c] = (float) Math.exp(random.nextGaussian());
            offset[c] = (float) random.nextGaussian();
        }
        bytes = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < FLOATS; i++) {
            int c = (i / 1024) % 64; // the NCHW channel; any spread will do for the other layouts
            float v = (float) (random.nextGaussian() * scale[c] + offset[c]);
            if (random.nextInt(2) == 0) {
                v = Math.max(v, 0f);
            }
            if (random.nextInt(100_000) == 0) {
                v *= 40;
            }
            bytes.putFloat(i * Float.BYTES, v);
        }
    }

    /**
     * Baseline 1: XOR of every 8-byte word through a {@link LongBuffer} view, the widest scalar
     * read a little-endian heap buffer offers; four independent accumulators so the loop is bound
     * by the loads, not by a dependency chain.
     */
    @Benchmark
    public long baselineXorLongs() {
        LongBuffer longs = bytes.asLongBuffer();
        int n = longs.limit();
        long a = 0;
        long b = 0;
        long c = 0;
        long d = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            a ^= longs.get(i);
            b ^= longs.get(i + 1);
            c ^= longs.get(i + 2);
            d ^= longs.get(i + 3);
        }
        for (; i < n; i++) {
            a ^= longs.get(i);
        }
        return a ^ b ^ c ^ d;
    }

    /**
     * Baseline 2: the bulk copy the reducer benchmarks start with, bytes into a reused chunk
     * ({@code asLongBuffer().get(long[])}, a memcpy for a native-order view), then a vectorizable
     * XOR over the chunk so every byte is also looked at.
     */
    @Benchmark
    public long baselineCopyXor() {
        LongBuffer longs = bytes.asLongBuffer();
        int n = longs.limit();
        long x = 0;
        for (int at = 0; at < n; at += longChunk.length) {
            int len = Math.min(longChunk.length, n - at);
            longs.get(at, longChunk, 0, len);
            for (int i = 0; i < len; i++) {
                x ^= longChunk[i];
            }
        }
        return x;
    }

    /**
     * Baseline 3: the bulk copy alone, bytes into the reused float chunk; reads every byte once.
     */
    @Benchmark
    public float baselineCopy() {
        FloatBuffer floats = bytes.asFloatBuffer();
        float last = 0;
        for (int at = 0; at < FLOATS; at += CHUNK) {
            int len = Math.min(CHUNK, FLOATS - at);
            floats.get(at, chunk, 0, len);
            last = chunk[len - 1];
        }
        return last;
    }

    @Benchmark
    public BatchMinMax perTensor() throws InvalidBatchException {
        return reduceBytes(PER_TENSOR, FLAT);
    }

    /** ch_axis 0 of [64, 16384]: 64 runs of 16384 contiguous values, one per channel. */
    @Benchmark
    public BatchMinMax perChannelFirstAxis() throws InvalidBatchException {
        return reduceBytes(perChannel(0), CHANNELS_FIRST);
    }

    /** ch_axis -1 of [16384, 64]: consecutive values belong to consecutive channels. */
    @Benchmark
    public BatchMinMax perChannelLastAxis() throws InvalidBatchException {
        return reduceBytes(perChannel(-1), CHANNELS_LAST);
    }

    /** ch_axis 1 of an NCHW activation [16, 64, 32, 32]: runs of 1024, channels cycling. */
    @Benchmark
    public BatchMinMax perChannelNchw() throws InvalidBatchException {
        return reduceBytes(perChannel(1), NCHW);
    }

    /**
     * ch_axis 1 of a late NCHW activation [256, 64, 8, 8]: runs of 64, too short to reduce one by
     * one.
     */
    @Benchmark
    public BatchMinMax perChannelNchwSmall() throws InvalidBatchException {
        return reduceBytes(perChannel(1), NCHW_SMALL);
    }

    @Benchmark
    public BatchMinMax copyPerTensor() throws InvalidBatchException {
        return reduceCopied(PER_TENSOR, FLAT);
    }

    @Benchmark
    public BatchMinMax copyPerChannelFirstAxis() throws InvalidBatchException {
        return reduceCopied(perChannel(0), CHANNELS_FIRST);
    }

    @Benchmark
    public BatchMinMax copyPerChannelLastAxis() throws InvalidBatchException {
        return reduceCopied(perChannel(-1), CHANNELS_LAST);
    }

    @Benchmark
    public BatchMinMax copyPerChannelNchw() throws InvalidBatchException {
        return reduceCopied(perChannel(1), NCHW);
    }

    @Benchmark
    public BatchMinMax copyPerChannelNchwSmall() throws InvalidBatchException {
        return reduceCopied(perChannel(1), NCHW_SMALL);
    }

    private static ObserverSpec perChannel(int chAxis) {
        return ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver).chAxis(chAxis).build();
    }

    /** What the NPY decoder does for a float32 batch: the record's bytes to acceptFloat32. */
    private BatchMinMax reduceBytes(ObserverSpec spec, long[] shape) throws InvalidBatchException {
        BatchReducer reducer = BatchReducer.forSpec(spec, shape, false, NonFinitePolicy.REJECT);
        reducer.acceptFloat32(bytes.array(), 0, FLOATS, ByteOrder.LITTLE_ENDIAN);
        return reducer.finish();
    }

    /** The path without the Vector API: bulk copy into a reused chunk, then accept. */
    private BatchMinMax reduceCopied(ObserverSpec spec, long[] shape) throws InvalidBatchException {
        BatchReducer reducer = BatchReducer.forSpec(spec, shape, false, NonFinitePolicy.REJECT);
        FloatBuffer floats = bytes.asFloatBuffer();
        for (int at = 0; at < FLOATS; at += CHUNK) {
            int len = Math.min(CHUNK, FLOATS - at);
            floats.get(at, chunk, 0, len);
            reducer.accept(chunk, 0, len);
        }
        return reducer.finish();
    }
}
