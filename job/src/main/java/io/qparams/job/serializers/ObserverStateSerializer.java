package io.qparams.job.serializers;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.qparams.observers.ObserverState;
import io.qparams.observers.ObserverStateCodec;

import java.io.IOException;

/**
 * Flink state serializer for {@link ObserverState}, in {@link ObserverStateCodec}'s versioned form.
 */
public final class ObserverStateSerializer extends CodecSerializer<ObserverState> {
    private static final long serialVersionUID = 1L;

    public static final ObserverStateSerializer INSTANCE = new ObserverStateSerializer();

    @Override
    public ObserverState createInstance() {
        return ObserverState.initial(false);
    }

    @Override
    public ObserverState copy(ObserverState from) {
        return from.copy();
    }

    @Override
    void write(ObserverState value, DataOutputView target) throws IOException {
        ObserverStateCodec.write(value, target);
    }

    @Override
    ObserverState read(DataInputView source) throws IOException {
        return ObserverStateCodec.read(source);
    }

    @Override
    public TypeSerializerSnapshot<ObserverState> snapshotConfiguration() {
        return new Snapshot();
    }

    /**
     * Restores this serializer from any savepoint; always compatible as is (the codec reads every
     * version). Its class name is in every savepoint: never rename or move it.
     */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<ObserverState> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
