package io.qparams.connectors.kafka;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;

import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/** qparams records to the output topic, keyed by tensor name (CONTRACT section 3). */
public final class QParamsOutputSerializer
        implements KafkaRecordSerializationSchema<QParamsOutput> {
    private static final long serialVersionUID = 1L;
    private final String topic;

    public QParamsOutputSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            QParamsOutput element, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(
                topic,
                null,
                timestamp,
                element.tensor.getBytes(StandardCharsets.UTF_8),
                element.value);
    }
}
