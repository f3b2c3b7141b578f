package io.qparams.connectors.kafka;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;

import org.apache.kafka.clients.consumer.OffsetResetStrategy;

import java.time.Duration;
import java.util.Properties;

/**
 * The real Kafka sources and sinks, from the job's settings. Every one takes the {@code
 * --kafka-properties} settings as they are written, config-provider references unresolved: the
 * Kafka clients resolve them where they run (docs/security.md).
 */
public final class KafkaEndpoints {
    /**
     * The broker's default transaction.max.timeout.ms (15 min): the sink's timeout must not exceed
     * it.
     */
    static final Duration BROKER_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    static final Duration MIN_TRANSACTION_TIMEOUT = Duration.ofMinutes(1);

    private KafkaEndpoints() {}

    public static KafkaSource<KafkaInput> inputSource(KafkaSettings settings) {
        return source(settings, settings.inputTopic(), "input");
    }

    public static KafkaSource<KafkaInput> controlSource(KafkaSettings settings) {
        return source(settings, settings.controlTopic(), "control");
    }

    public static KafkaSink<QParamsOutput> outputSink(KafkaSettings settings) {
        return sink(settings, new QParamsOutputSerializer(settings.outputTopic()), "output");
    }

    /** The drift events' sink; only for settings that name an events topic. */
    public static KafkaSink<QParamsOutput> driftEventSink(KafkaSettings settings) {
        return sink(settings, new QParamsOutputSerializer(settings.driftEventsTopic()), "events");
    }

    public static KafkaSink<DeadLetter> deadLetterSink(KafkaSettings settings) {
        return sink(settings, new DeadLetterSerializer(settings.dlqTopic()), "dlq");
    }

    /**
     * A dead letter carries the original value, plus headers: the producers may send more than the
     * broker's default 1 MB input limit (up to {@link Topics#DLQ_MAX_MESSAGE_BYTES}, which the DLQ
     * topic takes when the job creates it), or one large refused record would fail the sink and
     * restart the job over and over.
     */
    static final int MAX_REQUEST_BYTES = Topics.DLQ_MAX_MESSAGE_BYTES;

    private static KafkaSource<KafkaInput> source(
            KafkaSettings settings, String topic, String role) {
        return KafkaSource.<KafkaInput>builder()
                .setBootstrapServers(settings.bootstrapServers())
                .setTopics(topic)
                .setGroupId(settings.groupId())
                .setClientIdPrefix(settings.groupId() + "-" + role)
                .setStartingOffsets(startingOffsets(settings.startingOffsets()))
                .setDeserializer(new KafkaInputDeserializer())
                // Offsets are committed on checkpoints (the restart point is the checkpoint, not
                // the group).
                .setProperty("commit.offsets.on.checkpoint", "true")
                // Enough to see topics created after the job started, and new partitions.
                .setProperty("partition.discovery.interval.ms", "30000")
                // Read committed output of exactly-once producers upstream; plain records are
                // unaffected.
                .setProperty("isolation.level", "read_committed")
                // Batches of a MiB and more. The consumer's 64 KiB socket buffer throttles every
                // fetch response of several MiB; Kafka's own kafka-consumer-perf-test (the bench's
                // baseline) reads with 2 MiB. With it, and fetches of up to 8 MiB (several large
                // records per round trip, but no 32 MiB response buffer for 4 partitions), 1 MiB
                // batches ran at 541-577 rec/s instead of 276-322 (p=1, 8 GiB; BENCHMARKS.md).
                .setProperty("receive.buffer.bytes", Integer.toString(RECEIVE_BUFFER_BYTES))
                .setProperty("max.partition.fetch.bytes", Integer.toString(FETCH_BYTES))
                .setProperty("fetch.max.bytes", Integer.toString(FETCH_BYTES))
                // The --kafka-properties settings last: they may tune the above too.
                .setProperties(clientProperties(settings))
                .build();
    }

    private static Properties clientProperties(KafkaSettings settings) {
        Properties props = new Properties();
        settings.kafkaProperties().applyTo(props);
        return props;
    }

    static final int RECEIVE_BUFFER_BYTES = 2 << 20;
    static final int FETCH_BYTES = 8 << 20;

    /**
     * Producer batches: a per-channel record of 1,024 channels is ~36 KB, over the default 16 KiB
     * batch.size, so each went out as a batch of its own; 256 KiB batches hold several of them, or
     * hundreds of per-tensor records.
     */
    static final int PRODUCER_BATCH_BYTES = 256 << 10;

    @SuppressWarnings(
            "deprecation") // the connector's committedOffsets() takes only the deprecated enum
    static OffsetsInitializer startingOffsets(StartingOffsets startingOffsets) {
        return switch (startingOffsets) {
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
            case COMMITTED -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        };
    }

    private static <T> KafkaSink<T> sink(
            KafkaSettings settings, KafkaRecordSerializationSchema<T> schema, String role) {
        var builder =
                KafkaSink.<T>builder()
                        .setBootstrapServers(settings.bootstrapServers())
                        .setRecordSerializer(schema)
                        .setProperty("max.request.size", Integer.toString(MAX_REQUEST_BYTES))
                        .setProperty("batch.size", Integer.toString(PRODUCER_BATCH_BYTES));
        if (settings.delivery() == Delivery.EXACTLY_ONCE) {
            builder.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                    .setTransactionalIdPrefix(settings.groupId() + "-" + role)
                    .setProperty(
                            "transaction.timeout.ms",
                            Long.toString(
                                    transactionTimeout(settings.checkpointInterval()).toMillis()));
        } else {
            builder.setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE);
        }
        settings.kafkaProperties().asMap().forEach(builder::setProperty);
        return builder.build();
    }

    /**
     * Long enough to outlive a few checkpoints (a transaction spans one interval, plus a slow
     * checkpoint and a restart), never above the broker's default maximum.
     */
    static Duration transactionTimeout(Duration checkpointInterval) {
        Duration wanted = checkpointInterval.multipliedBy(10);
        if (wanted.compareTo(MIN_TRANSACTION_TIMEOUT) < 0) {
            return MIN_TRANSACTION_TIMEOUT;
        }
        return wanted.compareTo(BROKER_MAX_TRANSACTION_TIMEOUT) > 0
                ? BROKER_MAX_TRANSACTION_TIMEOUT
                : wanted;
    }
}
