package io.qparams.connectors.batch;

import io.qparams.connectors.records.JsonValues;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Test helpers: fixture files, hand-made NPY records, specs. */
final class Fixtures {
    private Fixtures() {}

    static byte[] resource(String path) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/npy/" + path)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> expectations() throws IOException {
        Map<String, Object> root =
                (Map<String, Object>) JsonValues.parse(resource("expected.json"));
        return (List<Map<String, Object>>) root.get("fixtures");
    }

    static float fromHex(Object hex) {
        return Float.intBitsToFloat(Integer.parseUnsignedInt((String) hex, 16));
    }

    static float[] fromHex(List<?> hex) {
        float[] values = new float[hex.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = fromHex(hex.get(i));
        }
        return values;
    }

    static ObserverSpec perTensor() {
        return ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
    }

    static ObserverSpec perChannel(int axis) {
        return ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver).chAxis(axis).build();
    }

    /** An NPY record with the given header dict text (padded as numpy pads it) and data bytes. */
    static byte[] npy(int major, String dict, byte[] data) {
        return NpyWriter.withHeader(major, dict, data);
    }

    /** Little-endian float32 bytes. */
    static byte[] f4(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
