package io.qparams.job.testutil;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

import io.qparams.job.JobOptions;
import io.qparams.job.QparamsJob;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The real Kafka job on the test's MiniCluster, on fresh random topics; cancelled on close. */
public final class JobUnderTest implements AutoCloseable {
    public final String input = EmbeddedKafka.randomTopic("activations");
    public final String output = EmbeddedKafka.randomTopic("qparams");
    public final String dlq = EmbeddedKafka.randomTopic("dlq");
    public final String control = EmbeddedKafka.randomTopic("control");
    public final JobOptions options;
    private JobClient client;

    /** @param yaml the observer config, or null for the defaults */
    public JobUnderTest(EmbeddedKafka kafka, Path dir, String yaml, int parallelism, String... extraArgs)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", kafka.bootstrapServers(),
                "--input-topic", input, "--output-topic", output, "--dlq-topic", dlq, "--control-topic", control,
                "--group-id", EmbeddedKafka.randomTopic("group"), "--parallelism", Integer.toString(parallelism),
                "--checkpoint-interval", "1s", "--starting-offsets", "earliest"));
        if (yaml != null) {
            Path config = dir.resolve("observers-" + input + ".yaml");
            Files.writeString(config, yaml);
            args.addAll(List.of("--config", config.toString()));
        }
        args.addAll(List.of(extraArgs));
        options = JobOptions.parse(args.toArray(new String[0]));
    }

    /** Creates the topics (the job does it) and submits the job. */
    public JobUnderTest start() throws Exception {
        client = QparamsJob.start(StreamExecutionEnvironment.getExecutionEnvironment(), options);
        return this;
    }

    @Override
    public void close() throws ExecutionException {
        if (client != null) {
            try {
                client.cancel().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
