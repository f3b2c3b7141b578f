package io.qparams.job.serializers;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.qparams.observers.ObserverState;
import io.qparams.observers.ObserverStateCodec;

import java.io.IOException;

/**
 * Flink state serializer for {@link ObserverState}, in {@link ObserverStateCodec}'s versioned form,
 * so observer state never falls back to Kryo. The codec's leading version byte carries format
 * evolution; the serializer itself (and its snapshot) has a single version, so every savepoint
 * restores with this class as is.
 */
public final class ObserverStateSerializer extends TypeSerializerSingleton<ObserverState> {
    private static final long serialVersionUID = 1L;

    public static final ObserverStateSerializer INSTANCE = new ObserverStateSerializer();

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public ObserverState createInstance() {
        return ObserverState.initial(false);
    }

    @Override
    public ObserverState copy(ObserverState from) {
        return from.copy();
    }

    @Override
    public ObserverState copy(ObserverState from, ObserverState reuse) {
        return from.copy();
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(ObserverState record, DataOutputView target) throws IOException {
        ObserverStateCodec.write(record, target);
    }

    @Override
    public ObserverState deserialize(DataInputView source) throws IOException {
        return ObserverStateCodec.read(source);
    }

    @Override
    public ObserverState deserialize(ObserverState reuse, DataInputView source) throws IOException {
        return ObserverStateCodec.read(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        ObserverStateCodec.write(ObserverStateCodec.read(source), target);
    }

    @Override
    public TypeSerializerSnapshot<ObserverState> snapshotConfiguration() {
        return new Snapshot();
    }

    /**
     * Restores this serializer from any savepoint; always compatible as is (the codec reads every
     * version).
     */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<ObserverState> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
