package io.qparams.job.serializers;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import io.qparams.job.records.PendingStep;
import io.qparams.job.records.PendingStepCodec;

import java.io.IOException;

/** Flink state serializer for {@link PendingStep}, in {@link PendingStepCodec}'s versioned form. */
public final class PendingStepSerializer extends CodecSerializer<PendingStep> {
    private static final long serialVersionUID = 1L;

    public static final PendingStepSerializer INSTANCE = new PendingStepSerializer();

    @Override
    public PendingStep createInstance() {
        return new PendingStep(0, 0, 1, 0);
    }

    @Override
    void write(PendingStep value, DataOutputView target) throws IOException {
        PendingStepCodec.write(value, target);
    }

    @Override
    PendingStep read(DataInputView source) throws IOException {
        return PendingStepCodec.read(source);
    }

    @Override
    public TypeSerializerSnapshot<PendingStep> snapshotConfiguration() {
        return new Snapshot();
    }

    /**
     * Restores this serializer from any savepoint (the codec reads every version). Its class name
     * is in every savepoint: never rename or move it.
     */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<PendingStep> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
