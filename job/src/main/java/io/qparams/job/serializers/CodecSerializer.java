package io.qparams.job.serializers;

import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A Flink state serializer over a versioned codec (the codec's leading version byte carries format
 * evolution), so keyed state never falls back to Kryo. The serializer itself has a single version
 * and its snapshot restores it as is: every savepoint restores with the subclass unchanged.
 */
abstract class CodecSerializer<T> extends TypeSerializerSingleton<T> {
    private static final long serialVersionUID = 1L;

    abstract void write(T value, DataOutputView target) throws IOException;

    abstract T read(DataInputView source) throws IOException;

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public T copy(T from) {
        try {
            DataOutputSerializer out = new DataOutputSerializer(64);
            write(from, out);
            return read(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(T record, DataOutputView target) throws IOException {
        write(record, target);
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        return read(source);
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        return read(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        write(read(source), target);
    }
}
