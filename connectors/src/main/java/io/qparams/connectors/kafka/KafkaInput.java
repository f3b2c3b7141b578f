package io.qparams.connectors.kafka;

import java.nio.charset.StandardCharsets;

/**
 * One Kafka record as the job needs it: key and value bytes, the {@code content-type} header and
 * the record's coordinates (for the output's {@code source} and the dead-letter headers). A Flink
 * POJO.
 */
public class KafkaInput {
    /** The tensor name, UTF-8; null when the producer sent no key. */
    public byte[] key;

    public byte[] value;

    /** The {@code content-type} header, or null. */
    public String contentType;

    public String topic;
    public int partition;
    public long offset;

    /**
     * The data-parallel headers' text ({@link io.qparams.connectors.records.StepHeaders}), each
     * null when absent; read and checked in DecodeAndReduce, where a bad one becomes a dead letter.
     */
    public String step;

    public String worldSize;
    public String rank;

    public KafkaInput() {}

    public KafkaInput(
            byte[] key,
            byte[] value,
            String contentType,
            String topic,
            int partition,
            long offset) {
        this.key = key;
        this.value = value;
        this.contentType = contentType;
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
    }

    @Override
    public String toString() {
        return "KafkaInput{"
                + topic
                + "-"
                + partition
                + "@"
                + offset
                + ", key="
                + (key == null ? "null" : new String(key, StandardCharsets.UTF_8))
                + "}";
    }
}
