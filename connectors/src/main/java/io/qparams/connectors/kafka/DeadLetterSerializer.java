package io.qparams.connectors.kafka;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;

import io.qparams.connectors.batch.BatchDecoder;
import io.qparams.connectors.records.DeadLetters;
import io.qparams.connectors.records.StepHeaders;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;

/**
 * Dead letters to the DLQ topic: original key and value, reason and source headers (CONTRACT
 * section 4).
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;
    private final String topic;

    public DeadLetterSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            DeadLetter element, KafkaSinkContext context, Long timestamp) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetters.ERROR, DeadLetters.errorHeaderValue(element.reason));
        headers.add(DeadLetters.SOURCE_TOPIC, utf8(element.sourceTopic));
        headers.add(DeadLetters.SOURCE_PARTITION, utf8(Integer.toString(element.sourcePartition)));
        headers.add(DeadLetters.SOURCE_OFFSET, utf8(Long.toString(element.sourceOffset)));
        if (element.contentType != null) {
            headers.add(BatchDecoder.CONTENT_TYPE_HEADER, utf8(element.contentType));
        }
        addIfPresent(headers, StepHeaders.STEP, element.step);
        addIfPresent(headers, StepHeaders.WORLD_SIZE, element.worldSize);
        addIfPresent(headers, StepHeaders.RANK, element.rank);
        return new ProducerRecord<>(topic, null, timestamp, element.key, element.value, headers);
    }

    private static void addIfPresent(RecordHeaders headers, String name, String value) {
        if (value != null) {
            headers.add(name, utf8(value));
        }
    }

    private static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
