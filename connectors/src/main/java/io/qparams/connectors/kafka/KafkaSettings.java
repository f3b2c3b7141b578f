package io.qparams.connectors.kafka;

import java.time.Duration;

/**
 * What the job's Kafka sources, sinks and topics need of its options (the job's options record
 * implements it).
 */
public interface KafkaSettings {
    String bootstrapServers();

    /** The consumer group; also the prefix of client ids and transactional ids. */
    String groupId();

    String inputTopic();

    String outputTopic();

    String dlqTopic();

    String controlTopic();

    /**
     * Where drift events go, or null when the job makes none (no drift rule): then the job neither
     * creates nor writes the topic.
     */
    String driftEventsTopic();

    StartingOffsets startingOffsets();

    Delivery delivery();

    /**
     * Bounds the sink's transaction timeout: a transaction stays open for one checkpoint interval.
     */
    Duration checkpointInterval();

    /**
     * The {@code --kafka-properties} settings every client of the job takes (security above all),
     * config-provider references unresolved.
     */
    KafkaClientProperties kafkaProperties();
}
