package io.qparams.job;

import java.time.Duration;

import io.qparams.job.records.DeadLetter;
import io.qparams.job.records.DeadLetterSerializer;
import io.qparams.job.records.KafkaInput;
import io.qparams.job.records.KafkaInputDeserializer;
import io.qparams.job.records.QParamsOutput;
import io.qparams.job.records.QParamsOutputSerializer;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** The real Kafka sources and sinks, from the job's options. */
public final class KafkaEndpoints {
    /** The broker's default transaction.max.timeout.ms (15 min): the sink's timeout must not exceed it. */
    static final Duration BROKER_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);
    static final Duration MIN_TRANSACTION_TIMEOUT = Duration.ofMinutes(1);

    private KafkaEndpoints() {
    }

    public static KafkaSource<KafkaInput> inputSource(JobOptions options) {
        return source(options, options.inputTopic(), "input");
    }

    public static KafkaSource<KafkaInput> controlSource(JobOptions options) {
        return source(options, options.controlTopic(), "control");
    }

    public static KafkaSink<QParamsOutput> outputSink(JobOptions options) {
        return sink(options, new QParamsOutputSerializer(options.outputTopic()), "output");
    }

    public static KafkaSink<DeadLetter> deadLetterSink(JobOptions options) {
        return sink(options, new DeadLetterSerializer(options.dlqTopic()), "dlq");
    }

    /**
     * A dead letter carries the original value, plus headers: the producers may send more than the
     * broker's default 1 MB input limit (up to {@link Topics#DLQ_MAX_MESSAGE_BYTES}, which the DLQ topic
     * takes when the job creates it), or one large refused record would fail the sink and restart the
     * job over and over.
     */
    static final int MAX_REQUEST_BYTES = Topics.DLQ_MAX_MESSAGE_BYTES;

    private static KafkaSource<KafkaInput> source(JobOptions options, String topic, String role) {
        return KafkaSource.<KafkaInput>builder()
                .setBootstrapServers(options.bootstrapServers())
                .setTopics(topic)
                .setGroupId(options.groupId())
                .setClientIdPrefix(options.groupId() + "-" + role)
                .setStartingOffsets(startingOffsets(options.startingOffsets()))
                .setDeserializer(new KafkaInputDeserializer())
                // Offsets are committed on checkpoints (the restart point is the checkpoint, not the group).
                .setProperty("commit.offsets.on.checkpoint", "true")
                // Enough to see topics created after the job started, and new partitions.
                .setProperty("partition.discovery.interval.ms", "30000")
                // Read committed output of exactly-once producers upstream; plain records are unaffected.
                .setProperty("isolation.level", "read_committed")
                .build();
    }

    @SuppressWarnings("deprecation") // the connector's committedOffsets() takes only the deprecated enum
    static OffsetsInitializer startingOffsets(JobOptions.StartingOffsets startingOffsets) {
        switch (startingOffsets) {
            case EARLIEST:
                return OffsetsInitializer.earliest();
            case LATEST:
                return OffsetsInitializer.latest();
            default:
                return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        }
    }

    private static <T> KafkaSink<T> sink(JobOptions options, KafkaRecordSerializationSchema<T> schema, String role) {
        var builder = KafkaSink.<T>builder()
                .setBootstrapServers(options.bootstrapServers())
                .setRecordSerializer(schema)
                .setProperty("max.request.size", Integer.toString(MAX_REQUEST_BYTES));
        if (options.delivery() == JobOptions.Delivery.EXACTLY_ONCE) {
            builder.setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                    .setTransactionalIdPrefix(options.groupId() + "-" + role)
                    .setProperty("transaction.timeout.ms", Long.toString(transactionTimeout(options.checkpointInterval()).toMillis()));
        } else {
            builder.setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE);
        }
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
        return wanted.compareTo(BROKER_MAX_TRANSACTION_TIMEOUT) > 0 ? BROKER_MAX_TRANSACTION_TIMEOUT : wanted;
    }
}
