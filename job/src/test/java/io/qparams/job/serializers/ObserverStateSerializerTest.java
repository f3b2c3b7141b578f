package io.qparams.job.serializers;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import io.qparams.observers.ObserverState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObserverStateSerializerTest {
    private final ObserverStateSerializer serializer = ObserverStateSerializer.INSTANCE;

    static List<ObserverState> states() {
        return List.of(
                ObserverState.initial(false),
                ObserverState.initial(true),
                new ObserverState(new float[] {-1.5f}, new float[] {2.0f}, 7),
                new ObserverState(
                        new float[] {Float.NaN, -0.0f, Float.NEGATIVE_INFINITY},
                        new float[] {Float.intBitsToFloat(0x7fc00001), 0.0f, Float.MIN_VALUE},
                        Long.MAX_VALUE));
    }

    @Test
    void roundTripsBitForBit() throws Exception {
        for (ObserverState state : states()) {
            DataOutputSerializer out = new DataOutputSerializer(16);
            serializer.serialize(state, out);
            ObserverState back =
                    serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertEquals(state, back);
            for (int i = 0; i < state.size(); i++) {
                assertEquals(
                        Float.floatToRawIntBits(state.minVal(i)),
                        Float.floatToRawIntBits(back.minVal(i)));
                assertEquals(
                        Float.floatToRawIntBits(state.maxVal(i)),
                        Float.floatToRawIntBits(back.maxVal(i)));
            }
        }
    }

    @Test
    void copiesAreDeepAndStreamCopyIsExact() throws Exception {
        for (ObserverState state : states()) {
            ObserverState copy = serializer.copy(state);
            assertEquals(state, copy);
            assertNotSame(state, copy);
            DataOutputSerializer original = new DataOutputSerializer(16);
            serializer.serialize(state, original);
            DataOutputSerializer copied = new DataOutputSerializer(16);
            serializer.copy(new DataInputDeserializer(original.getCopyOfBuffer()), copied);
            assertEquals(
                    java.util.Arrays.toString(original.getCopyOfBuffer()),
                    java.util.Arrays.toString(copied.getCopyOfBuffer()));
        }
    }

    @Test
    void snapshotRestoresACompatibleSerializer() throws Exception {
        TypeSerializerSnapshot<ObserverState> snapshot = serializer.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        TypeSerializerSnapshot<ObserverState> restored =
                TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(out.getCopyOfBuffer()),
                        getClass().getClassLoader());
        TypeSerializer<ObserverState> restoredSerializer = restored.restoreSerializer();
        assertEquals(serializer, restoredSerializer);
        TypeSerializerSchemaCompatibility<ObserverState> compatibility =
                serializer.snapshotConfiguration().resolveSchemaCompatibility(restored);
        assertTrue(compatibility.isCompatibleAsIs(), compatibility.toString());
    }

    @Test
    void duplicateIsTheSingleton() {
        assertEquals(serializer, serializer.duplicate());
        assertEquals(-1, serializer.getLength());
    }
}
