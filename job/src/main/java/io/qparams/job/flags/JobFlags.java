package io.qparams.job.flags;

import io.qparams.connectors.kafka.Delivery;
import io.qparams.connectors.kafka.KafkaClientProperties;
import io.qparams.connectors.kafka.StartingOffsets;
import io.qparams.job.JobOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The job's flags (CONTRACT section 6), declared once: {@code flink run qparams-job.jar} takes them
 * ({@link JobCommand}) and so does {@code qparams run}, which mixes them in. Each declaration is
 * the flag's parser, its help and its documentation (docs/cli.md).
 */
public final class JobFlags {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT",
            converter = FlagConverters.Text.class,
            description =
                    "The Kafka cluster (default: "
                            + JobOptions.DEFAULT_BOOTSTRAP_SERVERS
                            + "; qparams run starts an embedded broker instead).")
    private String bootstrapServers;

    @Option(
            names = "--kafka-properties",
            paramLabel = "FILE",
            converter = FlagConverters.PathFlag.class,
            description =
                    "Kafka client settings for every client of the job (security.protocol, sasl.*,"
                            + " ssl.*, ...), a Java properties file; secrets as $${env:NAME} or"
                            + " $${file:PATH:KEY}, resolved where each client runs, see"
                            + " docs/security.md (default: none).")
    private Path kafkaProperties;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            converter = FlagConverters.PathFlag.class,
            description =
                    "Observer rules, YAML, see docs/config.md (default:"
                            + " MovingAverageMinMaxObserver with torch's defaults for every tensor,"
                            + " nonfinite: reject; qparams run --demo: conf/observers.yaml).")
    private Path config;

    @Option(
            names = "--input-topic",
            paramLabel = "TOPIC",
            converter = FlagConverters.TopicName.class,
            defaultValue = "activations",
            description = "The activation batches (default: ${DEFAULT-VALUE}).")
    private String inputTopic;

    @Option(
            names = "--output-topic",
            paramLabel = "TOPIC",
            converter = FlagConverters.TopicName.class,
            defaultValue = "qparams",
            description = "The qparams records (default: ${DEFAULT-VALUE}).")
    private String outputTopic;

    @Option(
            names = "--dlq-topic",
            paramLabel = "TOPIC",
            converter = FlagConverters.TopicName.class,
            defaultValue = "activations.dlq",
            description = "The dead letters (default: ${DEFAULT-VALUE}).")
    private String dlqTopic;

    @Option(
            names = "--control-topic",
            paramLabel = "TOPIC",
            converter = FlagConverters.TopicName.class,
            defaultValue = "qparams.control",
            description = "The {\"op\": \"reset\"} messages (default: ${DEFAULT-VALUE}).")
    private String controlTopic;

    @Option(
            names = "--events-topic",
            paramLabel = "TOPIC",
            converter = FlagConverters.TopicName.class,
            defaultValue = "qparams.events",
            description =
                    "The drift events, the first record of each drift episode (default:"
                            + " ${DEFAULT-VALUE}); created and written only when the config has"
                            + " drift rules.")
    private String eventsTopic;

    @Option(
            names = "--group-id",
            paramLabel = "GROUP",
            converter = FlagConverters.Text.class,
            defaultValue = "qparams",
            description =
                    "Consumer group, also the prefix of transactional ids (default:"
                            + " ${DEFAULT-VALUE}).")
    private String groupId;

    @Option(
            names = "--parallelism",
            paramLabel = "N",
            converter = FlagConverters.PositiveInt.class,
            description =
                    "Job parallelism (default: the environment's, i.e. the number of cores in"
                            + " qparams run, flink run's -p on a cluster).")
    private Integer parallelism;

    @Option(
            names = "--checkpoint-interval",
            paramLabel = "DURATION",
            converter = FlagConverters.CheckpointInterval.class,
            defaultValue = "10s",
            description =
                    "Checkpoint every DURATION, e.g. 500ms, 10s, 1min; at least 10ms "
                            + "(default: ${DEFAULT-VALUE}).")
    private Duration checkpointInterval;

    @Option(
            names = "--delivery",
            paramLabel = "at-least-once|exactly-once",
            converter = FlagConverters.DeliveryFlag.class,
            defaultValue = "at-least-once",
            description =
                    "What readers see after a failure: records again, or none twice (Kafka"
                            + " transactions, visible at checkpoints) (default: ${DEFAULT-VALUE}).")
    private Delivery delivery;

    @Option(
            names = "--starting-offsets",
            paramLabel = "committed|earliest|latest",
            converter = FlagConverters.StartingOffsetsFlag.class,
            defaultValue = "committed",
            description =
                    "Where a new consumer group starts; committed falls back to the earliest"
                            + " offset, so no batch produced before the job is lost (default:"
                            + " ${DEFAULT-VALUE}).")
    private StartingOffsets startingOffsets;

    @Option(
            names = "--state-backend",
            paramLabel = "hashmap|rocksdb",
            converter = FlagConverters.StateBackendFlag.class,
            defaultValue = "hashmap",
            description =
                    "Where observer state lives: on the heap, or in RocksDB on local disk for very"
                            + " many tensors (default: ${DEFAULT-VALUE}).")
    private JobOptions.StateBackend stateBackend;

    @Option(
            names = "--max-batch-bytes",
            paramLabel = "SIZE",
            converter = FlagConverters.ByteSize.class,
            defaultValue = JobOptions.DEFAULT_MAX_BATCH_SIZE,
            description =
                    "Larger record values go to the DLQ unparsed, e.g. 512kb, 1048576; 1kb to 2gb"
                            + " (default: ${DEFAULT-VALUE}).")
    private int maxBatchBytes;

    @Option(
            names = "--buffer-timeout",
            paramLabel = "DURATION",
            converter = FlagConverters.BufferTimeout.class,
            defaultValue = "10ms",
            description =
                    "The longest a record waits in a network buffer between the job's tasks before"
                            + " it is sent on: lower is less latency at low rates, 0ms sends every"
                            + " record at once (slower); at high rates buffers fill first"
                            + " (default: ${DEFAULT-VALUE}).")
    private Duration bufferTimeout;

    @Option(
            names = "--checkpoint-dir",
            paramLabel = "URI",
            description =
                    "Where checkpoints go, e.g. file:///var/lib/qparams/checkpoints, s3://bucket/"
                            + "qparams (default: the cluster's execution.checkpointing.dir; qparams"
                            + " run: a temporary directory removed when it ends).")
    private String checkpointDir;

    @Option(
            names = "--step-timeout",
            paramLabel = "DURATION",
            converter = FlagConverters.StepTimeout.class,
            defaultValue = JobOptions.DEFAULT_STEP_TIMEOUT,
            description =
                    "How long a data-parallel step (records with qparams.step headers, see"
                            + " docs/torch.md) waits for its missing ranks, from its first shard,"
                            + " in processing time; at least 1ms (default: ${DEFAULT-VALUE}).")
    private Duration stepTimeout;

    @Option(
            names = "--incomplete-steps",
            paramLabel = "apply|dlq",
            converter = FlagConverters.IncompleteStepsFlag.class,
            defaultValue = "apply",
            description =
                    "A step still missing ranks at its timeout: applied with the ranks that came"
                            + " (the record's ranks < world_size says so), or sent to the DLQ"
                            + " (default: ${DEFAULT-VALUE}).")
    private JobOptions.IncompleteSteps incompleteSteps;

    @Option(
            names = "--state-ttl",
            paramLabel = "DURATION",
            converter = FlagConverters.StateTtl.class,
            description =
                    "Forget a tensor not updated for DURATION (processing time), e.g. 7d, 12h: its"
                            + " next batch starts a fresh observer at batches 1, as after a reset;"
                            + " at least 1min (default: keep every tensor). A job restored from a"
                            + " savepoint keeps the choice the savepoint was taken with.")
    private Duration stateTtl;

    /**
     * The options the flags give.
     *
     * @throws ParameterException with a one-line reason when the flags contradict each other
     */
    public JobOptions options() {
        try {
            return new JobOptions(
                    bootstrapServers == null
                            ? JobOptions.DEFAULT_BOOTSTRAP_SERVERS
                            : bootstrapServers,
                    bootstrapServers != null,
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
                    kafkaProperties == null
                            ? KafkaClientProperties.none()
                            : KafkaClientProperties.load(kafkaProperties));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(command.commandLine(), e.getMessage(), e);
        }
    }
}
