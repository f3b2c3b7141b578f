package io.qparams.connectors.batch;

import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverSpec;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Every fixture written by generate_npy_fixtures.py (real numpy.save bytes and JSON tensors)
 * decoded per tensor and per channel along every axis, under each non-finite policy, against
 * numpy's float32 min/max.
 */
class NpyFixturesTest {
    private final BatchDecoder decoder = new BatchDecoder();

    @Test
    void coversTheMatrix() throws IOException {
        List<Map<String, Object>> all = Fixtures.expectations();
        assertTrue(all.size() > 150, "fixtures: " + all.size());
        for (String descr :
                List.of(
                        "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "|i1", "<i2", ">i2", "<i4", ">i4",
                        "<i8", ">i8", "|u1", "<u2", ">u2", "<u4", ">u4")) {
            assertTrue(
                    all.stream()
                            .anyMatch(
                                    f ->
                                            descr.equals(f.get("descr"))
                                                    && Boolean.TRUE.equals(f.get("fortran"))),
                    descr + " in Fortran order");
        }
        for (String version : List.of("1.0", "2.0", "3.0")) {
            assertTrue(
                    all.stream().anyMatch(f -> version.equals(f.get("version"))),
                    "version " + version);
        }
    }

    @TestFactory
    List<DynamicTest> fixtures() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> fixture : Fixtures.expectations()) {
            String file = (String) fixture.get("file");
            tests.add(dynamicTest(file, () -> check(fixture, Fixtures.resource(file))));
        }
        return tests;
    }

    @SuppressWarnings("unchecked")
    private void check(Map<String, Object> fixture, byte[] bytes) throws InvalidBatchException {
        String contentType =
                ((String) fixture.get("file")).endsWith(".npy")
                        ? BatchDecoder.CONTENT_TYPE_NPY
                        : BatchDecoder.CONTENT_TYPE_JSON;
        if ((Long) fixture.get("numel") == 0) {
            assertNull(decoder.decode(bytes, null, Fixtures.perTensor(), NonFinitePolicy.REJECT));
            assertNull(
                    decoder.decode(
                            bytes, contentType, Fixtures.perChannel(0), NonFinitePolicy.REJECT));
            return;
        }
        boolean finite = (Boolean) fixture.get("finite");
        Map<String, Object> perTensor = (Map<String, Object>) fixture.get("per_tensor");
        for (NonFinitePolicy policy : NonFinitePolicy.values()) {
            List<Object> expected = (List<Object>) expectedFor(perTensor, policy, finite);
            expectBatch(
                    bytes,
                    contentType,
                    Fixtures.perTensor(),
                    policy,
                    expected == null
                            ? null
                            : BatchMinMax.perTensor(
                                    Fixtures.fromHex(expected.get(0)),
                                    Fixtures.fromHex(expected.get(1))));
        }
        Map<String, Object> perChannel = (Map<String, Object>) fixture.get("per_channel");
        List<?> shape = (List<?>) fixture.get("shape");
        if (shape.size() < 2) {
            InvalidBatchException e =
                    assertThrows(
                            InvalidBatchException.class,
                            () ->
                                    decoder.decode(
                                            bytes,
                                            null,
                                            Fixtures.perChannel(0),
                                            NonFinitePolicy.PROPAGATE));
            assertTrue(e.getMessage().contains("ch_axis 0 does not fit"), e.getMessage());
            return;
        }
        assertEquals(2 * shape.size(), perChannel.size(), "every axis, negative ones too");
        for (Map.Entry<String, Object> axis : perChannel.entrySet()) {
            Map<String, Object> byPolicy = (Map<String, Object>) axis.getValue();
            for (NonFinitePolicy policy : NonFinitePolicy.values()) {
                Map<String, Object> expected =
                        (Map<String, Object>) expectedFor(byPolicy, policy, finite);
                expectBatch(
                        bytes,
                        null,
                        Fixtures.perChannel(Integer.parseInt(axis.getKey())),
                        policy,
                        expected == null
                                ? null
                                : BatchMinMax.perChannel(
                                        Fixtures.fromHex((List<?>) expected.get("min")),
                                        Fixtures.fromHex((List<?>) expected.get("max"))));
            }
        }
    }

    /** The expectation under a policy; null when the policy refuses the batch. */
    private static Object expectedFor(
            Map<String, Object> byPolicy, NonFinitePolicy policy, boolean finite) {
        switch (policy) {
            case PROPAGATE:
                return byPolicy.get("propagate");
            case IGNORE:
                return finite ? byPolicy.get("propagate") : byPolicy.get("ignore");
            default:
                return finite ? byPolicy.get("propagate") : null;
        }
    }

    private void expectBatch(
            byte[] bytes,
            String contentType,
            ObserverSpec spec,
            NonFinitePolicy policy,
            BatchMinMax expected)
            throws InvalidBatchException {
        String what = spec + " " + policy;
        if (expected == null) {
            InvalidBatchException e =
                    assertThrows(
                            InvalidBatchException.class,
                            () -> decoder.decode(bytes, contentType, spec, policy),
                            what);
            assertFalse(e.getMessage().contains("\n"));
            return;
        }
        BatchMinMax actual = decoder.decode(bytes, contentType, spec, policy);
        assertNotNull(actual, what);
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++) {
            assertSame(expected.min(i), actual.min(i), what + " min[" + i + "]");
            assertSame(expected.max(i), actual.max(i), what + " max[" + i + "]");
        }
    }

    /** Exact bits, except that torch (and numpy) leave the sign of a zero result unspecified. */
    static void assertSame(float expected, float actual, String what) {
        if (expected == 0 && actual == 0 || Float.isNaN(expected) && Float.isNaN(actual)) {
            return;
        }
        assertEquals(
                Float.floatToIntBits(expected),
                Float.floatToIntBits(actual),
                what + ": expected " + expected + " got " + actual);
    }
}
