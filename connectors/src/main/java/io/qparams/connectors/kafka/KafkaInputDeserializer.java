package io.qparams.connectors.kafka;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;

import io.qparams.connectors.batch.BatchDecoder;
import io.qparams.connectors.records.StepHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;

/**
 * Keeps the raw bytes: decoding happens in DecodeAndReduce, where a failure becomes a dead letter.
 */
public final class KafkaInputDeserializer implements KafkaRecordDeserializationSchema<KafkaInput> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<KafkaInput> out) {
        KafkaInput input =
                new KafkaInput(
                        record.key(),
                        record.value(),
                        header(record, BatchDecoder.CONTENT_TYPE_HEADER),
                        record.topic(),
                        record.partition(),
                        record.offset());
        input.step = stepHeader(record, StepHeaders.STEP);
        input.worldSize = stepHeader(record, StepHeaders.WORLD_SIZE);
        input.rank = stepHeader(record, StepHeaders.RANK);
        out.collect(input);
    }

    /** The last header of that name as UTF-8 text; null when absent or without a value. */
    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null || header.value() == null
                ? null
                : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** As {@link #header}, but a header present without a value is "" (refused as not a number). */
    private static String stepHeader(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        if (header == null) {
            return null;
        }
        return header.value() == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }

    @Override
    public TypeInformation<KafkaInput> getProducedType() {
        return TypeInformation.of(KafkaInput.class);
    }
}
