package io.qparams.job.serializers;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import io.qparams.observers.ObserverState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * State written by earlier versions restores: the committed bytes under {@code
 * compat/observer-state-v1/} (a serializer snapshot and two serialized states, written by the
 * serializer of their time) still read back to the same states, and the snapshot still resolves
 * this serializer as compatible as is. Never regenerate those files in place: add a directory for a
 * new version beside them ({@code compat/README.md}).
 */
class ObserverStateCompatibilityTest {
    static final String V1 = "/compat/observer-state-v1/";

    /** The states the v1 files hold, by file name. */
    static Map<String, ObserverState> v1States() {
        Map<String, ObserverState> states = new LinkedHashMap<>();
        states.put(
                "per-tensor-state.bin",
                new ObserverState(new float[] {-3.5406811f}, new float[] {3.4330976f}, 42));
        states.put(
                "per-channel-state.bin",
                new ObserverState(
                        new float[] {-1.5f, Float.NaN, -0.0f, Float.NEGATIVE_INFINITY},
                        new float[] {2.0f, Float.intBitsToFloat(0x7fc00001), 0.0f, Float.MIN_VALUE},
                        7));
        states.put("initial-per-channel-state.bin", ObserverState.initial(true));
        return states;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ObserverStateCompatibilityTest.class.getResourceAsStream(V1 + name)) {
            if (in == null) {
                throw new AssertionError("missing test resource " + V1 + name);
            }
            return in.readAllBytes();
        }
    }

    @Test
    void v1StatesRestoreBitForBit() throws Exception {
        for (Map.Entry<String, ObserverState> e : v1States().entrySet()) {
            ObserverState expected = e.getValue();
            ObserverState restored =
                    ObserverStateSerializer.INSTANCE.deserialize(
                            new DataInputDeserializer(resource(e.getKey())));
            assertEquals(expected.batches(), restored.batches(), e.getKey());
            assertEquals(expected.size(), restored.size(), e.getKey());
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(
                        Float.floatToRawIntBits(expected.minVal(i)),
                        Float.floatToRawIntBits(restored.minVal(i)),
                        e.getKey() + " min_val[" + i + "]");
                assertEquals(
                        Float.floatToRawIntBits(expected.maxVal(i)),
                        Float.floatToRawIntBits(restored.maxVal(i)),
                        e.getKey() + " max_val[" + i + "]");
            }
        }
    }

    @Test
    void v1SerializerSnapshotRestoresACompatibleSerializer() throws Exception {
        TypeSerializerSnapshot<ObserverState> restored =
                TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(resource("serializer-snapshot.bin")),
                        getClass().getClassLoader());
        TypeSerializer<ObserverState> restoredSerializer = restored.restoreSerializer();
        assertEquals(ObserverStateSerializer.INSTANCE, restoredSerializer);
        TypeSerializerSchemaCompatibility<ObserverState> compatibility =
                ObserverStateSerializer.INSTANCE
                        .snapshotConfiguration()
                        .resolveSchemaCompatibility(restored);
        assertTrue(compatibility.isCompatibleAsIs(), compatibility.toString());
    }

    /**
     * While the current format is still v1, today's serializer writes exactly the committed bytes.
     */
    @Test
    void currentSerializerStillWritesV1() throws Exception {
        for (Map.Entry<String, ObserverState> e : v1States().entrySet()) {
            assertArrayEquals(
                    resource(e.getKey()),
                    serialize(e.getValue()),
                    e.getKey()
                            + ": the format changed; keep reading v1 and add"
                            + " compat/observer-state-v2 beside it");
        }
    }

    /**
     * Writes a NEW version's files: {@code mvn -pl job test
     * -Dtest=ObserverStateCompatibilityTest#generate
     * -Dqparams.compat.observer-state=job/src/test/resources/compat/observer-state-vN}. Refuses an
     * existing directory: committed versions are never regenerated.
     */
    @Test
    @EnabledIfSystemProperty(named = "qparams.compat.observer-state", matches = ".+")
    void generate() throws Exception {
        Path target = Path.of(System.getProperty("qparams.compat.observer-state"));
        assertFalse(
                Files.exists(target),
                target + " exists: never regenerate committed state, add a new version");
        Files.createDirectories(target);
        for (Map.Entry<String, ObserverState> e : v1States().entrySet()) {
            Files.write(target.resolve(e.getKey()), serialize(e.getValue()));
        }
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(
                out, ObserverStateSerializer.INSTANCE.snapshotConfiguration());
        Files.write(target.resolve("serializer-snapshot.bin"), out.getCopyOfBuffer());
    }

    private static byte[] serialize(ObserverState state) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        ObserverStateSerializer.INSTANCE.serialize(state, out);
        return out.getCopyOfBuffer();
    }
}
