package io.qparams.job.testutil;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import io.qparams.job.JobOptions;
import io.qparams.job.QParamsJob;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The real Kafka job on the test's MiniCluster, on fresh random topics (unless named); cancelled on
 * close.
 */
public final class JobUnderTest implements AutoCloseable {
    public final String input;
    public final String output;
    public final String dlq;
    public final String control;
    public final String events;
    public final JobOptions options;
    private JobClient client;

    /**
     * @param yaml the observer config, or null for the defaults
     */
    public JobUnderTest(
            EmbeddedKafkaExtension kafka,
            Path dir,
            String yaml,
            int parallelism,
            String... extraArgs)
            throws Exception {
        this(
                kafka,
                dir,
                yaml,
                parallelism,
                new Sources(
                        EmbeddedKafkaExtension.randomTopic("activations"),
                        EmbeddedKafkaExtension.randomTopic("control"),
                        EmbeddedKafkaExtension.randomTopic("group")),
                List.of(extraArgs));
    }

    /** With the given input and control topics and group (a savepoint's sources remember them). */
    public static JobUnderTest onTopics(
            EmbeddedKafkaExtension kafka,
            Path dir,
            String yaml,
            int parallelism,
            String input,
            String control,
            String groupId,
            String... extraArgs)
            throws Exception {
        return new JobUnderTest(
                kafka,
                dir,
                yaml,
                parallelism,
                new Sources(input, control, groupId),
                List.of(extraArgs));
    }

    /** What the job's Kafka sources read: the input and control topics, and the consumer group. */
    private record Sources(String input, String control, String groupId) {}

    private JobUnderTest(
            EmbeddedKafkaExtension kafka,
            Path dir,
            String yaml,
            int parallelism,
            Sources sources,
            List<String> extraArgs)
            throws Exception {
        this.input = sources.input();
        this.control = sources.control();
        this.output = EmbeddedKafkaExtension.randomTopic("qparams");
        this.dlq = EmbeddedKafkaExtension.randomTopic("dlq");
        this.events = EmbeddedKafkaExtension.randomTopic("events");
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "--bootstrap-servers",
                                kafka.bootstrapServers(),
                                "--input-topic",
                                input,
                                "--output-topic",
                                output,
                                "--dlq-topic",
                                dlq,
                                "--control-topic",
                                control,
                                "--events-topic",
                                events,
                                "--group-id",
                                sources.groupId(),
                                "--parallelism",
                                Integer.toString(parallelism),
                                "--checkpoint-interval",
                                "1s",
                                "--starting-offsets",
                                "earliest"));
        if (yaml != null) {
            Path config = dir.resolve("observers-" + input + "-" + output + ".yaml");
            Files.writeString(config, yaml);
            args.addAll(List.of("--config", config.toString()));
        }
        args.addAll(extraArgs);
        options = JobOptions.parse(args.toArray(new String[0]));
    }

    /** Creates the topics (the job does it) and submits the job. */
    public JobUnderTest start() throws Exception {
        return start(new Configuration());
    }

    /** Submits with extra Flink configuration (e.g. a savepoint to restore from). */
    public JobUnderTest start(Configuration extra) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(extra);
        client = QParamsJob.start(env, options);
        return this;
    }

    public JobClient client() {
        return client;
    }

    public JobID jobId() {
        return client.getJobID();
    }

    /** Waits until every task of the job runs: what is produced from now on meets a running job. */
    public JobUnderTest awaitRunning(FlinkRest rest, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JobStatus status = client.getJobStatus().get(10, TimeUnit.SECONDS);
            if (status == JobStatus.RUNNING && allTasksRunning(rest)) {
                return this;
            }
            if (status.isTerminalState() || System.nanoTime() > deadline) {
                throw new AssertionError("job " + jobId() + " is " + status + ", not running");
            }
            Thread.sleep(100);
        }
    }

    private boolean allTasksRunning(FlinkRest rest) throws Exception {
        if (rest == null) {
            return true;
        }
        for (var vertex : rest.get("jobs/" + jobId()).get("vertices")) {
            if (!"RUNNING".equals(vertex.get("status").asText())) {
                return false;
            }
        }
        return true;
    }

    /** Detaches: close() will not cancel (the job was stopped with a savepoint, say). */
    public void forget() {
        client = null;
    }

    @Override
    public void close() throws ExecutionException, TimeoutException {
        if (client != null) {
            try {
                client.cancel().get(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
