package io.qparams.connectors.batch;

import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverSpec;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.qparams.connectors.batch.Fixtures.f4;
import static io.qparams.connectors.batch.Fixtures.npy;
import static io.qparams.connectors.batch.Fixtures.perChannel;
import static io.qparams.connectors.batch.Fixtures.perTensor;
import static io.qparams.connectors.batch.Fixtures.utf8;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoding one record allocates at most a small multiple of the record's size (plus a constant for
 * the reducer, the reason string and an exception): never what a header or a JSON shape claims.
 * Measured per record with the thread's allocation counter, over the adversarial headers and the
 * real fixtures, on each spec.
 */
class DecodeAllocationTest {
    /**
     * Per call, whatever the record: reducer, chunk views, a reason and an exception with its stack
     * trace.
     */
    static final long CONSTANT = 64 << 10;

    /**
     * The densest input is JSON stats ("0, " is 3 bytes per value): a float per value for min and
     * for max, grown by doubling and trimmed, then copied into the batch, comes to about 6 bytes
     * per record byte (measured 6.2). NPY and JSON tensors stream through a fixed chunk and stay
     * far below.
     */
    static final long PER_BYTE = 8;

    /** At most this many decodes of one sample: C2 compiles the kernels well before. */
    static final int WARM_ROUNDS = 200;

    private final BatchDecoder decoder = new BatchDecoder();
    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    record Sample(String name, byte[] value) {}

    static List<Sample> corpus() throws Exception {
        byte[] three = f4(1, 2, 3);
        List<Sample> corpus = new ArrayList<>();
        String[] shapes = {
            "(1000000000000,)",
            "(1000000000000, 2)",
            "(2000000000, 1)",
            "(1, 2000000000)",
            "(4294967296, 4294967296)",
            "(3, 0, 1000000000000)",
            "(" + "2, ".repeat(40) + ")",
            "(99999999999999999999,)",
            "(-1,)"
        };
        for (String shape : shapes) {
            corpus.add(
                    new Sample(
                            "NPY shape " + shape,
                            npy(
                                    1,
                                    "{'descr': '<f4', 'fortran_order': False, 'shape': "
                                            + shape
                                            + ", }",
                                    three)));
            corpus.add(
                    new Sample(
                            "NPY f8 Fortran shape " + shape,
                            npy(
                                    2,
                                    "{'descr': '>f8', 'fortran_order': True, 'shape': "
                                            + shape
                                            + ", }",
                                    three)));
        }
        corpus.add(
                new Sample(
                        "NPY header of 60000 spaces",
                        npy(
                                2,
                                "{'descr': '<f4', 'fortran_order': False, "
                                        + "'shape': (3,), }"
                                        + " ".repeat(60000),
                                three)));
        corpus.add(
                new Sample(
                        "NPY string of 60000 chars in header",
                        npy(
                                2,
                                "{'descr': '"
                                        + "x".repeat(60000)
                                        + "', 'fortran_order': False, 'shape': (3,), }",
                                three)));
        corpus.add(
                new Sample(
                        "NPY 20000 nested tuples",
                        npy(
                                2,
                                "{'descr': '<f4', 'fortran_order': False, 'shape': "
                                        + "(".repeat(20000)
                                        + ")".repeat(20000)
                                        + "}",
                                three)));
        corpus.add(
                new Sample(
                        "JSON shape claiming 10^12",
                        utf8("{\"shape\": [1000000, 1000000], \"data\": [1]}")));
        corpus.add(
                new Sample(
                        "JSON 2e9 channels", utf8("{\"shape\": [2000000000, 1], \"data\": [1]}")));
        corpus.add(
                new Sample(
                        "JSON nested 20000 deep",
                        utf8(
                                "{\"shape\": [1], \"data\": "
                                        + "[".repeat(20000)
                                        + "1"
                                        + "]".repeat(20000)
                                        + "}")));
        corpus.add(
                new Sample(
                        "JSON 100000 channels of stats",
                        utf8(
                                "{\"min\": ["
                                        + "0, ".repeat(99999)
                                        + "0], \"max\": ["
                                        + "1, ".repeat(99999)
                                        + "1]}")));
        corpus.add(new Sample("JSON long key", utf8("{\"" + "k".repeat(100000) + "\": 1}")));
        for (Map<String, Object> fixture : Fixtures.expectations()) {
            String file = (String) fixture.get("file");
            corpus.add(new Sample("fixture " + file, Fixtures.resource(file)));
        }
        byte[] big = new byte[4 * 250_000];
        corpus.add(
                new Sample(
                        "NPY 250000 floats",
                        npy(
                                1,
                                "{'descr': '<f4', 'fortran_order': False, 'shape': "
                                        + "(500, 500), }",
                                big)));
        return corpus;
    }

    @Test
    void decodingAllocatesAtMostASmallMultipleOfTheRecord() throws Exception {
        ObserverSpec[] specs = {perTensor(), perChannel(0), perChannel(1), perChannel(-1)};
        List<String> failures = new ArrayList<>();
        for (Sample sample : corpus()) {
            for (ObserverSpec spec : specs) {
                long limit = CONSTANT + PER_BYTE * sample.value().length;
                // The least of the rounds, until one is within the limit: the first rounds pay for
                // class loading, and until C2 has compiled the Vector API kernels they box every
                // vector (a 1 MB record took 15-20 rounds in a fresh JVM). Steady state is what
                // counts; a decoder that allocates per value stays over the limit every round.
                long allocated = Long.MAX_VALUE;
                for (int round = 0; round < WARM_ROUNDS && allocated > limit; round++) {
                    long before = threads.getCurrentThreadAllocatedBytes();
                    decodeQuietly(sample.value(), spec);
                    allocated =
                            Math.min(allocated, threads.getCurrentThreadAllocatedBytes() - before);
                }
                if (allocated > limit) {
                    failures.add(
                            sample.name()
                                    + " ("
                                    + spec.kind()
                                    + " ch_axis "
                                    + spec.chAxis()
                                    + "): "
                                    + allocated
                                    + " bytes allocated for a record of "
                                    + sample.value().length);
                }
            }
        }
        assertTrue(
                failures.isEmpty(), "over " + PER_BYTE + " x size + " + CONSTANT + ": " + failures);
    }

    private void decodeQuietly(byte[] value, ObserverSpec spec) {
        try {
            decoder.decode(value, null, spec, NonFinitePolicy.IGNORE);
        } catch (InvalidBatchException e) {
            // refused, as most of the corpus is: only the allocation counts here
        }
    }
}
