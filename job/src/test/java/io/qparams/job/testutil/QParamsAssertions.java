package io.qparams.job.testutil;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qparams.connectors.records.FloatJson;
import io.qparams.observers.ObserverState;
import io.qparams.observers.QParams;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compares a qparams JSON record with the observers API's state and qparams, bit for bit. */
public final class QParamsAssertions {
    private static final ObjectMapper JSON = new ObjectMapper();

    private QParamsAssertions() {}

    public static JsonNode parse(byte[] value) {
        try {
            return JSON.readTree(value);
        } catch (IOException e) {
            throw new AssertionError(
                    "not JSON: " + new String(value, java.nio.charset.StandardCharsets.UTF_8), e);
        }
    }

    /**
     * min_val, max_val, scale and zero_point as float32 bits (ints for zero_point), and batches.
     */
    public static void assertRecordMatches(
            JsonNode record, ObserverState state, QParams qparams, String where) {
        assertEquals(state.batches(), record.get("batches").asLong(), where + ": batches");
        assertTrue(qparams.isValid(), where + ": replay gave invalid qparams " + qparams);
        assertEquals("ok", record.get("status").asText(), where + ": status");
        boolean perChannel = record.get("min_val").isArray();
        for (int i = 0; i < state.size(); i++) {
            assertFloatBits(
                    state.minVal(i),
                    element(record.get("min_val"), i, perChannel),
                    where + ": min_val[" + i + "]");
            assertFloatBits(
                    state.maxVal(i),
                    element(record.get("max_val"), i, perChannel),
                    where + ": max_val[" + i + "]");
            assertFloatBits(
                    qparams.scale(i),
                    element(record.get("scale"), i, perChannel),
                    where + ": scale[" + i + "]");
            JsonNode zeroPoint = element(record.get("zero_point"), i, perChannel);
            if (qparams.hasFloatZeroPoint()) {
                assertFloatBits(
                        qparams.zeroPointFloat(i), zeroPoint, where + ": zero_point[" + i + "]");
            } else {
                assertEquals(
                        qparams.zeroPoint(i), zeroPoint.asInt(), where + ": zero_point[" + i + "]");
            }
        }
        if (perChannel) {
            assertEquals(state.size(), record.get("min_val").size(), where + ": channels");
        }
    }

    private static JsonNode element(JsonNode node, int i, boolean perChannel) {
        return perChannel ? node.get(i) : node;
    }

    /**
     * A JSON number read as a double and rounded to float32 (CONTRACT section 3); strings for
     * non-finite.
     */
    public static float toFloat(JsonNode node) {
        if (node.isTextual()) {
            Float nonFinite = FloatJson.nonFiniteValue(node.asText());
            if (nonFinite == null) {
                throw new AssertionError("not a float: " + node);
            }
            return nonFinite;
        }
        return (float) node.asDouble();
    }

    private static void assertFloatBits(float expected, JsonNode actual, String where) {
        float got = toFloat(actual);
        assertEquals(
                Float.floatToRawIntBits(expected),
                Float.floatToRawIntBits(got),
                where + ": expected " + expected + " got " + got + " (" + actual + ")");
    }
}
