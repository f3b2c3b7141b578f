package io.qparams.job;

import io.qparams.connectors.kafka.Delivery;
import io.qparams.connectors.kafka.KafkaClientProperties;
import io.qparams.connectors.kafka.KafkaSettings;
import io.qparams.connectors.kafka.StartingOffsets;
import io.qparams.connectors.kafka.Topics;
import io.qparams.job.flags.JobCommand;
import io.qparams.job.flags.JobFlags;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The job's options (CONTRACT section 6), as its flags ({@link JobFlags}) give them.
 *
 * @param bootstrapServers the Kafka cluster
 * @param eventsTopic where drift events go (written only when the config has drift rules)
 * @param bootstrapServersGiven whether {@code --bootstrap-servers} was given (qparams run starts an
 *     embedded broker when not)
 * @param config the {@code --config} file, or null for the built-in defaults
 * @param parallelism {@code --parallelism}, or null to keep the environment's default
 * @param maxBatchBytes input values above it go to the DLQ before any parsing
 * @param bufferTimeout the longest a record waits in a network buffer before it is sent on
 * @param checkpointDir where checkpoints go (a URI), or null for the cluster's setting
 * @param stepTimeout how long a data-parallel step waits for its missing ranks (processing time)
 * @param incompleteSteps what becomes of a step whose ranks did not all arrive in time
 * @param stateTtl a tensor not updated for this long is forgotten; null keeps every tensor
 * @param kafkaProperties the {@code --kafka-properties} settings of every Kafka client (shown with
 *     their secrets hidden)
 */
public record JobOptions(
        String bootstrapServers,
        boolean bootstrapServersGiven,
        Path config,
        String inputTopic,
        String outputTopic,
        String dlqTopic,
        String controlTopic,
        String eventsTopic,
        String groupId,
        Integer parallelism,
        Duration checkpointInterval,
        Delivery delivery,
        StartingOffsets startingOffsets,
        StateBackend stateBackend,
        int maxBatchBytes,
        Duration bufferTimeout,
        String checkpointDir,
        Duration stepTimeout,
        IncompleteSteps incompleteSteps,
        Duration stateTtl,
        KafkaClientProperties kafkaProperties)
        implements KafkaSettings {

    /**
     * Where keyed state lives: on the heap (fast, bounded by memory) or in RocksDB on local disk
     * (large state).
     */
    public enum StateBackend {
        HASHMAP,
        ROCKSDB
    }

    /**
     * A data-parallel step whose ranks did not all arrive within the step timeout: applied with the
     * ranks that came (the record's {@code ranks} says how many), or sent to the DLQ whole.
     */
    public enum IncompleteSteps {
        APPLY,
        DLQ
    }

    public static final String DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092";

    /** {@code --step-timeout}'s default, in the flag's syntax. */
    public static final String DEFAULT_STEP_TIMEOUT = "60s";

    /**
     * Larger input values go to the DLQ unparsed. Below the DLQ topic's record limit ({@link
     * Topics#DLQ_MAX_MESSAGE_BYTES}, 16 MiB) with room for key and headers, so every refused batch
     * fits the DLQ whole.
     */
    public static final String DEFAULT_MAX_BATCH_SIZE = "15mb";

    public static final int DEFAULT_MAX_BATCH_BYTES = 15 << 20;

    /**
     * @throws IllegalArgumentException when two of the four topics are the same
     */
    public JobOptions {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(checkpointInterval, "checkpointInterval");
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(startingOffsets, "startingOffsets");
        Objects.requireNonNull(stateBackend, "stateBackend");
        Objects.requireNonNull(bufferTimeout, "bufferTimeout");
        Objects.requireNonNull(stepTimeout, "stepTimeout");
        Objects.requireNonNull(incompleteSteps, "incompleteSteps");
        Objects.requireNonNull(kafkaProperties, "kafkaProperties");
        List<String> topics = List.of(inputTopic, outputTopic, dlqTopic, controlTopic);
        if (topics.stream().distinct().count() != topics.size()) {
            throw new IllegalArgumentException(
                    "--input-topic, --output-topic, --dlq-topic and --control-topic must be "
                            + "four different topics (got "
                            + String.join(", ", topics)
                            + ")");
        }
    }

    /**
     * The options a command line of the job's flags gives, as {@code flink run} passes them.
     *
     * @throws IllegalArgumentException with a one-line reason for a bad command line
     */
    public static JobOptions parse(String... args) {
        return JobCommand.parse(args, System.out)
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "--help asked for help, not for options"));
    }

    /** The defaults, as {@code parse()} with no arguments. */
    public static JobOptions defaults() {
        return parse();
    }

    /** A copy on other bootstrap servers (the CLI's embedded broker), which counts as given. */
    public JobOptions withBootstrapServers(String servers) {
        return new JobOptions(
                servers,
                true,
                config,
                inputTopic,
                outputTopic,
                dlqTopic,
                controlTopic,
                eventsTopic,
                groupId,
                parallelism,
                checkpointInterval,
                delivery,
                startingOffsets,
                stateBackend,
                maxBatchBytes,
                bufferTimeout,
                checkpointDir,
                stepTimeout,
                incompleteSteps,
                stateTtl,
                kafkaProperties);
    }

    /**
     * A copy with another observer config file ({@code qparams run --demo} without {@code
     * --config}).
     */
    public JobOptions withConfig(Path file) {
        return new JobOptions(
                bootstrapServers,
                bootstrapServersGiven,
                file,
                inputTopic,
                outputTopic,
                dlqTopic,
                controlTopic,
                eventsTopic,
                groupId,
                parallelism,
                checkpointInterval,
                delivery,
                startingOffsets,
                stateBackend,
                maxBatchBytes,
                bufferTimeout,
                checkpointDir,
                stepTimeout,
                incompleteSteps,
                stateTtl,
                kafkaProperties);
    }

    /** A copy with another checkpoint directory ({@code qparams run}'s temporary one). */
    public JobOptions withCheckpointDir(String uri) {
        return new JobOptions(
                bootstrapServers,
                bootstrapServersGiven,
                config,
                inputTopic,
                outputTopic,
                dlqTopic,
                controlTopic,
                eventsTopic,
                groupId,
                parallelism,
                checkpointInterval,
                delivery,
                startingOffsets,
                stateBackend,
                maxBatchBytes,
                bufferTimeout,
                uri,
                stepTimeout,
                incompleteSteps,
                stateTtl,
                kafkaProperties);
    }

    /**
     * The events topic when the config has drift rules (CONTRACT section 7), else null: a job
     * without them neither creates nor writes the topic, nor needs an ACL on it.
     *
     * @throws IllegalArgumentException when the config has drift rules and the events topic is one
     *     of the other four
     */
    @Override
    public String driftEventsTopic() {
        if (observerConfig().config().drift().isEmpty()) {
            return null;
        }
        if (List.of(inputTopic, outputTopic, dlqTopic, controlTopic).contains(eventsTopic)) {
            throw new IllegalArgumentException(
                    "--events-topic "
                            + eventsTopic
                            + " is one of the job's other topics: the config's drift rules need a"
                            + " topic of their own");
        }
        return eventsTopic;
    }

    /**
     * Reads the {@code --config} file (or the defaults) and validates it: the job's fail-fast step.
     */
    public ObserverConfigSource observerConfig() {
        return config == null
                ? ObserverConfigSource.defaults()
                : ObserverConfigSource.fromFile(config);
    }
}
