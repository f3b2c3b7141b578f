package io.qparams.job;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.MiniClusterExtension;

import io.qparams.job.testutil.EmbeddedKafkaExtension;
import io.qparams.job.testutil.FlinkRest;
import io.qparams.job.testutil.JobUnderTest;
import io.qparams.job.testutil.JsonBatches;
import io.qparams.job.testutil.MiniClusters;
import io.qparams.job.testutil.Replay;
import io.qparams.job.testutil.TopicReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.qparams.job.testutil.ObserverYaml.SYMMETRIC_WEIGHTS;
import static io.qparams.job.testutil.ObserverYaml.rule;
import static io.qparams.job.testutil.ObserverYaml.withNonfinite;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A savepoint taken by an earlier version of the job (committed under {@code compat/savepoint-v1/}:
 * a stop-with-savepoint, canonical format, after batches 1..N of two tensors) restores into today's
 * job, on either state backend and at another parallelism, and the job goes on with batches N+1..M
 * exactly as a replay of all M batches says: observer state and source offsets both survive the
 * upgrade. Never regenerate the committed savepoint: add a new version beside it
 * (compat/README.md).
 */
class SavepointCompatibilityITCase {
    @RegisterExtension static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.oneTaskManager(4);

    static final String V1 = "/compat/savepoint-v1/";

    /**
     * The savepoint's sources remember these topics and offsets: the restored job must read the
     * same ones.
     */
    static final String INPUT = "savepoint-v1-activations";

    static final String CONTROL = "savepoint-v1-control";
    static final String GROUP = "savepoint-v1";
    static final String[] TENSORS = {"enc.0.act", "enc.0.weight"};

    /** Batches per tensor before the savepoint, and in all. */
    static final int N = 6;

    static final int M = 10;
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    static final String CONFIG =
            withNonfinite(
                    "reject",
                    SYMMETRIC_WEIGHTS,
                    rule("*", "MovingAverageMinMaxObserver", "averaging_constant: 0.1"));

    @TempDir Path dir;

    /** Batch b (0-based) of tensor t: JSON stats on a drifting scale, the same every run. */
    static byte[] batch(int t, int b) {
        float s = 0.75f + 0.5f * b;
        if (TENSORS[t].endsWith(".weight")) {
            return JsonBatches.stats(
                    new float[] {-s, -2 * s + 0.125f * b, 0.25f}, new float[] {s, 0.5f * s, 1 + b});
        }
        return JsonBatches.stats(-s + 0.0625f * (b % 3), 1.5f * s);
    }

    /** The log: batch b of tensor t at offset 2b + t of the one input partition. */
    static int offset(int t, int b) {
        return TENSORS.length * b + t;
    }

    /**
     * Creates the input and control topics (one partition each) and the first {@code batches}
     * rounds, unless there.
     */
    private static void prepareTopics(int batches) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            if (admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(INPUT)) {
                return; // an earlier test of this class produced the same log
            }
            admin.createTopics(
                            List.of(
                                    new NewTopic(INPUT, Optional.of(1), Optional.empty()),
                                    new NewTopic(CONTROL, Optional.of(1), Optional.empty())))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            for (int t = 0; t < TENSORS.length; t++) {
                records.add(
                        new ProducerRecord<>(
                                INPUT, TENSORS[t].getBytes(StandardCharsets.UTF_8), batch(t, b)));
            }
        }
        KAFKA.produce(records);
    }

    /**
     * What the job emits for batches from..to-1 of every tensor, by offset: a replay of the whole
     * log.
     */
    private static List<String> expected(int from, int to) throws Exception {
        Replay replay = new Replay(ObserverConfigSource.fromYaml(CONFIG).config());
        List<String> records = new ArrayList<>();
        for (int b = 0; b < to; b++) {
            for (int t = 0; t < TENSORS.length; t++) {
                byte[] record = replay.apply(TENSORS[t], batch(t, b), null, INPUT, 0, offset(t, b));
                if (b >= from) {
                    records.add(new String(record, StandardCharsets.UTF_8));
                }
            }
        }
        records.sort(null);
        return records;
    }

    private static List<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
        List<String> values = new ArrayList<>();
        records.forEach(r -> values.add(new String(r.value(), StandardCharsets.UTF_8)));
        values.sort(null);
        return values;
    }

    @ParameterizedTest(name = "--state-backend {0}")
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void theV1SavepointRestoresAndTheJobGoesOnWithTheNextBatches(
            String backend, @InjectClusterRESTAddress URI restAddress) throws Exception {
        Path savepoint = copyResourceDir(V1 + "savepoint", dir.resolve("savepoint"));
        prepareTopics(M);
        Configuration restore = new Configuration();
        restore.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint.toUri().toString());
        try (JobUnderTest job =
                JobUnderTest.onTopics(
                        KAFKA, dir, CONFIG, 2, INPUT, CONTROL, GROUP, "--state-backend", backend)) {
            job.start(restore).awaitRunning(new FlinkRest(restAddress), TIMEOUT);
            try (TopicReader out = TopicReader.qparams(KAFKA, job.output)) {
                int expectedCount = TENSORS.length * (M - N);
                List<ConsumerRecord<byte[], byte[]>> records =
                        out.readAtLeast(expectedCount, TIMEOUT);
                out.readUntil(
                        r -> false,
                        Duration.ofSeconds(1)); // nothing re-read from before the savepoint
                assertEquals(
                        expected(N, M),
                        values(records),
                        "batches "
                                + (N + 1)
                                + ".."
                                + M
                                + " continue the restored observers, bit for bit");
            }
        }
    }

    /**
     * Writes a NEW savepoint version: {@code mvn -pl job test
     * -Dtest=SavepointCompatibilityITCase#generate
     * -Dqparams.compat.savepoint=$PWD/job/src/test/resources/compat/savepoint-vN} (then point a new
     * test at it). Refuses an existing directory: committed savepoints are never regenerated.
     */
    @Test
    @EnabledIfSystemProperty(named = "qparams.compat.savepoint", matches = ".+")
    void generate(@InjectClusterRESTAddress URI restAddress) throws Exception {
        Path target = Path.of(System.getProperty("qparams.compat.savepoint"));
        assertFalse(
                Files.exists(target),
                target + " exists: never regenerate a committed savepoint, add a new version");
        prepareTopics(N);
        try (JobUnderTest job =
                JobUnderTest.onTopics(
                        KAFKA,
                        dir,
                        CONFIG,
                        1,
                        INPUT,
                        CONTROL,
                        GROUP,
                        "--state-backend",
                        "hashmap",
                        "--delivery",
                        "at-least-once")) {
            job.start().awaitRunning(new FlinkRest(restAddress), TIMEOUT);
            try (TopicReader out = TopicReader.qparams(KAFKA, job.output)) {
                List<ConsumerRecord<byte[], byte[]>> records =
                        out.readAtLeast(TENSORS.length * N, TIMEOUT);
                assertEquals(expected(0, N), values(records));
            }
            String taken =
                    job.client()
                            .stopWithSavepoint(
                                    false,
                                    dir.resolve("taken").toUri().toString(),
                                    SavepointFormatType.CANONICAL)
                            .get(60, TimeUnit.SECONDS);
            job.forget();
            Path from = Path.of(new URI(taken));
            Files.createDirectories(target.resolve("savepoint"));
            try (Stream<Path> files = Files.list(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.copy(f, target.resolve("savepoint").resolve(f.getFileName()));
                }
            }
            Files.writeString(target.resolve("observers.yaml"), CONFIG);
        }
    }

    private static Path copyResourceDir(String resource, Path to)
            throws IOException, URISyntaxException {
        var url = SavepointCompatibilityITCase.class.getResource(resource);
        assertTrue(url != null, "missing test resource " + resource);
        Path from = Path.of(url.toURI());
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return to;
    }
}
