package io.qparams.job;

import java.util.Objects;

import io.qparams.job.functions.DeadLetterTag;
import io.qparams.job.functions.DecodeAndReduce;
import io.qparams.job.functions.ObserveFunction;
import io.qparams.job.functions.ParseControl;
import io.qparams.job.records.DeadLetter;
import io.qparams.job.records.KafkaInput;
import io.qparams.job.records.QParamsOutput;
import io.qparams.job.records.TensorEvent;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The qparams topology: input -> decode + reduce (in the source task) -> keyBy(tensor) -> observe ->
 * output, with control-topic resets joining before the keyBy and every refused record going to the
 * dead-letter sink. Sources and sinks are constructor arguments: {@link #main} wires Kafka, tests may
 * wire bounded ones.
 */
public final class QparamsJob {
    private static final Logger LOG = LoggerFactory.getLogger(QparamsJob.class);
    public static final String JOB_NAME = "qparams";

    private final ObserverConfigSource config;
    private final Source<KafkaInput, ?, ?> input;
    private final Source<KafkaInput, ?, ?> control;
    private final Sink<QParamsOutput> output;
    private final Sink<DeadLetter> deadLetters;

    public QparamsJob(ObserverConfigSource config, Source<KafkaInput, ?, ?> input, Source<KafkaInput, ?, ?> control,
            Sink<QParamsOutput> output, Sink<DeadLetter> deadLetters) {
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
    public static QparamsJob fromOptions(JobOptions options) {
        return new QparamsJob(options.observerConfig(), KafkaEndpoints.inputSource(options),
                KafkaEndpoints.controlSource(options), KafkaEndpoints.outputSink(options),
                KafkaEndpoints.deadLetterSink(options));
    }

    /** Adds the topology to the environment. Every operator has a name and a uid (savepoints map state by uid). */
    public void build(StreamExecutionEnvironment env) {
        SingleOutputStreamOperator<TensorEvent> batches = env
                .fromSource(input, WatermarkStrategy.noWatermarks(), "input", TypeInformation.of(KafkaInput.class))
                .uid("input-source")
                .process(new DecodeAndReduce(config)).name("decode-and-reduce").uid("decode-and-reduce");
        SingleOutputStreamOperator<TensorEvent> resets = env
                .fromSource(control, WatermarkStrategy.noWatermarks(), "control", TypeInformation.of(KafkaInput.class))
                .uid("control-source")
                .process(new ParseControl()).name("parse-control").uid("parse-control");
        SingleOutputStreamOperator<QParamsOutput> qparams = batches.union(resets)
                .keyBy(event -> event.tensor, Types.STRING)
                .process(new ObserveFunction(config)).name("observe").uid("observe");
        qparams.sinkTo(output).name("output-sink").uid("output-sink");
        DataStream<DeadLetter> refused = batches.getSideOutput(DeadLetterTag.DEAD_LETTERS)
                .union(resets.getSideOutput(DeadLetterTag.DEAD_LETTERS), qparams.getSideOutput(DeadLetterTag.DEAD_LETTERS));
        refused.sinkTo(deadLetters).name("dead-letter-sink").uid("dead-letter-sink");
    }

    /**
     * Everything before {@code execute}: validates the config, applies parallelism and checkpointing to
     * the environment, creates missing topics, and builds the Kafka topology on it.
     *
     * @throws IllegalArgumentException (incl. InvalidObserverConfigException) for a bad config, one line
     * @throws IllegalStateException when Kafka cannot be reached to create the topics
     */
    public static void prepare(StreamExecutionEnvironment env, JobOptions options) {
        QparamsJob job = fromOptions(options);
        configure(env, options);
        java.util.List<String> created = Topics.createMissing(options.bootstrapServers(), Topics.of(options),
                options.dlqTopic());
        if (!created.isEmpty()) {
            LOG.info("created missing topics {}", created);
        }
        job.build(env);
    }

    /**
     * Parallelism and checkpointing (exactly-once mode, always on) from the options. Generic types are
     * off: every record type is a POJO and the observer state has its own serializer, so nothing may
     * fall back to Kryo (which would block state evolution); a type that would fails the build here.
     */
    public static void configure(StreamExecutionEnvironment env, JobOptions options) {
        if (options.parallelism() != null) {
            env.setParallelism(options.parallelism());
        }
        env.enableCheckpointing(options.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        Configuration noKryo = new Configuration();
        noKryo.set(PipelineOptions.GENERIC_TYPES, false);
        env.configure(noKryo);
    }

    /** Prepares and runs the job until it ends or fails (blocking). */
    public static JobExecutionResult run(StreamExecutionEnvironment env, JobOptions options) throws Exception {
        prepare(env, options);
        return env.execute(JOB_NAME);
    }

    /** Prepares and submits the job; returns at once with its client (cancel it to stop the job). */
    public static JobClient start(StreamExecutionEnvironment env, JobOptions options) throws Exception {
        prepare(env, options);
        return env.executeAsync(JOB_NAME);
    }

    /** What {@code flink run qparams-job.jar [options]} calls. */
    public static void main(String[] args) throws Exception {
        run(StreamExecutionEnvironment.getExecutionEnvironment(), JobOptions.parse(args));
    }
}
