package io.qparams.job;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.TimeUtils;

import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.KafkaAccess;
import io.qparams.connectors.kafka.KafkaEndpoints;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.kafka.QParamsOutput;
import io.qparams.job.flags.FlagConverters;
import io.qparams.job.flags.JobCommand;
import io.qparams.job.functions.DeadLetterTag;
import io.qparams.job.functions.DecodeAndReduce;
import io.qparams.job.functions.DriftEventTag;
import io.qparams.job.functions.ObserveFunction;
import io.qparams.job.functions.ParseControl;
import io.qparams.job.records.TensorEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The qparams topology: input -> decode + reduce (in the source task) -> keyBy(tensor) -> observe
 * -> output, with control-topic resets joining before the keyBy and every refused record going to
 * the dead-letter sink. Sources and sinks are constructor arguments: {@link #main} wires Kafka,
 * tests may wire bounded ones.
 */
public final class QParamsJob {
    private static final Logger LOG = LoggerFactory.getLogger(QParamsJob.class);
    public static final String JOB_NAME = "qparams";

    /**
     * First restart after a failure; doubled per consecutive failure up to {@link
     * #MAX_RESTART_BACKOFF}.
     */
    static final Duration INITIAL_RESTART_BACKOFF = Duration.ofSeconds(1);

    static final Duration MAX_RESTART_BACKOFF = Duration.ofMinutes(1);

    /**
     * Running this long without a failure forgets the backoff: the next failure restarts after 1 s
     * again.
     */
    static final Duration RESET_RESTART_BACKOFF_AFTER = Duration.ofHours(1);

    private final ObserverConfigSource config;
    private final Source<KafkaInput, ?, ?> input;
    private final Source<KafkaInput, ?, ?> control;
    private final Sink<QParamsOutput> output;
    private final Sink<DeadLetter> deadLetters;
    private Sink<QParamsOutput> driftEvents;
    private int maxBatchBytes = JobOptions.DEFAULT_MAX_BATCH_BYTES;
    private Duration stepTimeout = TimeUtils.parseDuration(JobOptions.DEFAULT_STEP_TIMEOUT);
    private JobOptions.IncompleteSteps incompleteSteps = JobOptions.IncompleteSteps.APPLY;
    private Duration stateTtl;

    public QParamsJob(
            ObserverConfigSource config,
            Source<KafkaInput, ?, ?> input,
            Source<KafkaInput, ?, ?> control,
            Sink<QParamsOutput> output,
            Sink<DeadLetter> deadLetters) {
        this.config = Objects.requireNonNull(config, "config");
        this.input = Objects.requireNonNull(input, "input");
        this.control = Objects.requireNonNull(control, "control");
        this.output = Objects.requireNonNull(output, "output");
        this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
    }

    /**
     * The job on Kafka as the options say. Reads and validates the observer config first (a bad one
     * throws {@link io.qparams.observers.InvalidObserverConfigException} with a one-line reason);
     * creates no topic (see {@link #prepare}).
     */
    public static QParamsJob fromOptions(JobOptions options) {
        return new QParamsJob(
                        options.observerConfig(),
                        KafkaEndpoints.inputSource(options),
                        KafkaEndpoints.controlSource(options),
                        KafkaEndpoints.outputSink(options),
                        KafkaEndpoints.deadLetterSink(options))
                .withMaxBatchBytes(options.maxBatchBytes())
                .withSteps(options.stepTimeout(), options.incompleteSteps())
                .withStateTtl(options.stateTtl())
                .withDriftEvents(
                        options.driftEventsTopic() == null
                                ? null
                                : KafkaEndpoints.driftEventSink(options));
    }

    /**
     * Where drift events go (CONTRACT section 7); needed when the config has drift rules, unused
     * otherwise.
     */
    public QParamsJob withDriftEvents(Sink<QParamsOutput> sink) {
        this.driftEvents = sink;
        return this;
    }

    /** Forget a tensor not updated for this long ({@code --state-ttl}); null keeps every one. */
    public QParamsJob withStateTtl(Duration ttl) {
        this.stateTtl = ttl;
        return this;
    }

    /** Input values above this many bytes go to the DLQ unparsed ({@code --max-batch-bytes}). */
    public QParamsJob withMaxBatchBytes(int maxBatchBytes) {
        this.maxBatchBytes = maxBatchBytes;
        return this;
    }

    /**
     * How long a data-parallel step waits for missing ranks, and what then ({@code --step-timeout},
     * {@code --incomplete-steps}).
     */
    public QParamsJob withSteps(Duration timeout, JobOptions.IncompleteSteps incomplete) {
        this.stepTimeout = Objects.requireNonNull(timeout, "timeout");
        this.incompleteSteps = Objects.requireNonNull(incomplete, "incomplete");
        return this;
    }

    /**
     * Adds the topology to the environment. Every operator has a name and a uid (savepoints map
     * state by uid).
     *
     * @throws IllegalStateException when the config has drift rules but no drift event sink was
     *     given
     */
    public void build(StreamExecutionEnvironment env) {
        boolean watchesDrift = !config.config().drift().isEmpty();
        if (watchesDrift && driftEvents == null) {
            throw new IllegalStateException(
                    "the config has drift rules: the job needs a sink for their events");
        }
        SingleOutputStreamOperator<TensorEvent> batches =
                env.fromSource(
                                input,
                                WatermarkStrategy.noWatermarks(),
                                "input",
                                TypeInformation.of(KafkaInput.class))
                        .uid("input-source")
                        .process(new DecodeAndReduce(config, maxBatchBytes))
                        .name("decode-and-reduce")
                        .uid("decode-and-reduce");
        SingleOutputStreamOperator<TensorEvent> resets =
                env.fromSource(
                                control,
                                WatermarkStrategy.noWatermarks(),
                                "control",
                                TypeInformation.of(KafkaInput.class))
                        .uid("control-source")
                        .process(new ParseControl())
                        .name("parse-control")
                        .uid("parse-control");
        SingleOutputStreamOperator<QParamsOutput> qparams =
                batches.union(resets)
                        .keyBy(event -> event.tensor, Types.STRING)
                        .process(
                                new ObserveFunction(config, stepTimeout, incompleteSteps)
                                        .withStateTtl(stateTtl))
                        .name("observe")
                        .uid("observe");
        qparams.sinkTo(output).name("output-sink").uid("output-sink");
        if (watchesDrift) {
            qparams.getSideOutput(DriftEventTag.DRIFT_EVENTS)
                    .sinkTo(driftEvents)
                    .name("drift-event-sink")
                    .uid("drift-event-sink");
        }
        DataStream<DeadLetter> refused =
                batches.getSideOutput(DeadLetterTag.DEAD_LETTERS)
                        .union(
                                resets.getSideOutput(DeadLetterTag.DEAD_LETTERS),
                                qparams.getSideOutput(DeadLetterTag.DEAD_LETTERS));
        refused.sinkTo(deadLetters).name("dead-letter-sink").uid("dead-letter-sink");
    }

    /**
     * Everything before {@code execute}: validates the config, applies parallelism and
     * checkpointing to the environment, authenticates to Kafka, creates missing topics, checks the
     * principal's ACLs ({@link KafkaAccess}), and builds the Kafka topology on it.
     *
     * @throws IllegalArgumentException (incl. InvalidObserverConfigException) for a bad config, one
     *     line; a {@link io.qparams.connectors.kafka.KafkaAccessException} when Kafka refuses the
     *     credentials or an ACL is missing
     * @throws IllegalStateException when Kafka cannot be reached to create the topics
     */
    public static void prepare(StreamExecutionEnvironment env, JobOptions options) {
        QParamsJob job = fromOptions(options);
        configure(env, options);
        for (String key : options.kafkaProperties().literalSecrets()) {
            LOG.warn(
                    "--kafka-properties: {} holds a secret as text, which travels in the job graph;"
                            + " ${env:NAME} or ${file:PATH:KEY} keeps it out (docs/security.md)",
                    key);
        }
        List<String> created = KafkaAccess.prepare(options);
        if (!created.isEmpty()) {
            LOG.info("created missing topics {}", created);
        }
        job.build(env);
    }

    /**
     * Parallelism, checkpointing, state backend and restarts from the options, as Flink
     * configuration (the job's configuration overrides the cluster's for these keys).
     *
     * <ul>
     *   <li>Checkpoints in exactly-once mode, always on: the observer state, the source offsets and
     *       the sink's transactions are one consistent cut; retained on cancellation, so a
     *       cancelled job can be resumed from its last checkpoint like from a savepoint.
     *   <li>State backend {@code hashmap} (default) or {@code rocksdb} (incremental checkpoints).
     *   <li>Restarts: exponential delay, 1 s doubling to at most 1 min (jitter 10 %), unlimited
     *       attempts. Bad input never fails the job (it goes to the DLQ), so what restarts it is
     *       the infrastructure: a lost TaskManager, a broker that is away. Those heal on their own;
     *       the job should outwait them without hammering the broker and without giving up, and
     *       recover in about a second after a one-off failure. A fixed attempt budget would turn a
     *       long broker outage into a dead job that someone has to resubmit; numRestarts shows a
     *       restart loop.
     *   <li>Generic types off: every record type is a POJO and the observer state has its own
     *       serializer, so nothing may fall back to Kryo (which would block state evolution); a
     *       type that would fails the build here.
     *   <li>Object reuse on: a record passes to the next chained operator as it is, not as a deep
     *       copy (which for a 1 MiB batch is a 1 MiB copy per record between the source and
     *       decode-and-reduce). Safe because no function keeps or changes a record it was given:
     *       each emits new objects, and what crosses the keyBy is deserialized afresh.
     *   <li>Buffer timeout {@code --buffer-timeout} (10 ms; Flink's default is 100 ms): a record
     *       waits at most that long in a network buffer at low rates (the latency bench).
     *   <li>Checkpoints to {@code --checkpoint-dir} when given; else the cluster's directory.
     * </ul>
     */
    public static void configure(StreamExecutionEnvironment env, JobOptions options) {
        if (options.parallelism() != null) {
            env.setParallelism(options.parallelism());
        }
        env.configure(flinkConfiguration(options));
    }

    /** The Flink options {@link #configure} applies, for tests and the docs. */
    public static Configuration flinkConfiguration(JobOptions options) {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, options.checkpointInterval());
        conf.set(
                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                CheckpointingMode.EXACTLY_ONCE);
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        // Flink's names for the backends are the flag's own spellings: hashmap, rocksdb.
        conf.set(
                StateBackendOptions.STATE_BACKEND, FlagConverters.spelling(options.stateBackend()));
        if (options.stateBackend() == JobOptions.StateBackend.ROCKSDB) {
            conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        }
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
        conf.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
                INITIAL_RESTART_BACKOFF);
        conf.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
                MAX_RESTART_BACKOFF);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER, 2.0);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_JITTER_FACTOR, 0.1);
        conf.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD,
                RESET_RESTART_BACKOFF_AFTER);
        conf.set(
                RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS,
                Integer.MAX_VALUE);
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(PipelineOptions.OBJECT_REUSE, true);
        conf.set(ExecutionOptions.BUFFER_TIMEOUT, options.bufferTimeout());
        if (options.checkpointDir() != null) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, options.checkpointDir());
        }
        return conf;
    }

    /** Prepares and runs the job until it ends or fails (blocking). */
    public static JobExecutionResult run(StreamExecutionEnvironment env, JobOptions options)
            throws Exception {
        prepare(env, options);
        return env.execute(JOB_NAME);
    }

    /**
     * Prepares and submits the job; returns at once with its client (cancel it to stop the job).
     */
    public static JobClient start(StreamExecutionEnvironment env, JobOptions options)
            throws Exception {
        prepare(env, options);
        return env.executeAsync(JOB_NAME);
    }

    /**
     * What {@code flink run qparams-job.jar [flags]} calls. A bad flag throws an
     * IllegalArgumentException with a one-line reason (the Flink CLI reports it); {@code --help}
     * prints the flags and submits nothing.
     */
    public static void main(String[] args) throws Exception {
        Optional<JobOptions> options = JobCommand.parse(args, System.out);
        if (options.isPresent()) {
            run(StreamExecutionEnvironment.getExecutionEnvironment(), options.get());
        }
    }
}
