package io.qparams.job;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.job.testutil.EmbeddedKafkaExtension;
import io.qparams.job.testutil.FlinkRest;
import io.qparams.job.testutil.JobUnderTest;
import io.qparams.job.testutil.JsonBatches;
import io.qparams.job.testutil.MiniClusters;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.job.testutil.Replay;
import io.qparams.job.testutil.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.qparams.job.testutil.ObserverYaml.observers;
import static io.qparams.job.testutil.ObserverYaml.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failures while the job runs: 30 tensors x 100 batches stream in while checkpoints are taken every
 * 500 ms, and twice a TaskManager of the MiniCluster (2 TMs) is terminated under the running job,
 * which restarts from its last checkpoint on the other one. Exactly-once: the committed output of
 * every tensor is batches 1..100, no gap, no repeat, every record (the last included) bit for bit a
 * failure-free replay's. At-least-once: every record equals the replay's record for its source
 * offset, so a duplicate is byte-identical to the first record with that offset, and the last is
 * the replay's last. The drift events (a rule watches every tensor) follow the same two rules.
 */
class FailureRecoveryITCase {
    @RegisterExtension static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.taskManagers(2, 2, spreadOut());

    /**
     * One subtask of each operator per TaskManager: terminating either TaskManager hits the job.
     */
    private static Configuration spreadOut() {
        Configuration conf = new Configuration();
        conf.set(
                TaskManagerOptions.TASK_MANAGER_LOAD_BALANCE_MODE,
                TaskManagerOptions.TaskManagerLoadBalanceMode.SLOTS);
        return conf;
    }

    /**
     * Index of the next TaskManager to terminate: the MiniCluster keeps terminated ones in its list
     * and appends the ones started after, so the live ones are always the last two.
     */
    private static int nextToTerminate = 0;

    static final int TENSORS = 30;
    static final int BATCHES = 100;
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    /** With a drift rule: its history and episodes are keyed state that must survive too. */
    static final String CONFIG =
            observers(
                            rule("*.weight", "PerChannelMinMaxObserver", "ch_axis: 0"),
                            rule("*", "MovingAverageMinMaxObserver", "averaging_constant: 0.1"))
                    + "drift: [{match: \"*\", window: 5, threshold: 0.1}]\n";

    @TempDir Path dir;

    static String tensor(int t) {
        return String.format("layer.%02d.%s", t, t % 3 == 0 ? "weight" : "act");
    }

    static byte[] batch(int t, int b) {
        Random random = new Random(1000L * t + b);
        float s = (float) (0.5 + b * 0.05 + random.nextDouble());
        if (t % 3 == 0) {
            float[] min = new float[4];
            float[] max = new float[4];
            for (int c = 0; c < 4; c++) {
                min[c] = (float) (-s * random.nextDouble());
                max[c] = (float) (s * random.nextDouble());
            }
            return JsonBatches.stats(min, max);
        }
        return JsonBatches.stats(
                (float) (-s * random.nextDouble()), (float) (s * random.nextDouble()));
    }

    /**
     * One round per 40 ms: the stream lasts about 4 s, long enough to fail twice in the middle of
     * it.
     */
    private static CompletableFuture<List<RecordMetadata>> produceSlowly(
            String topic, AtomicInteger rounds) {
        return CompletableFuture.supplyAsync(
                () -> {
                    List<Future<RecordMetadata>> sent = new ArrayList<>();
                    try (KafkaProducer<byte[], byte[]> producer = KAFKA.producer()) {
                        for (int b = 0; b < BATCHES; b++) {
                            for (int t = 0; t < TENSORS; t++) {
                                sent.add(
                                        producer.send(
                                                new ProducerRecord<>(
                                                        topic,
                                                        tensor(t).getBytes(StandardCharsets.UTF_8),
                                                        batch(t, b))));
                            }
                            producer.flush();
                            rounds.set(b + 1);
                            Thread.sleep(40);
                        }
                        List<RecordMetadata> landed = new ArrayList<>();
                        for (Future<RecordMetadata> f : sent) {
                            landed.add(f.get());
                        }
                        return landed;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    @ParameterizedTest(name = "--delivery {0}")
    @ValueSource(strings = {"exactly-once", "at-least-once"})
    void theOutputSurvivesTaskManagerFailures(
            String delivery,
            @InjectMiniCluster MiniCluster cluster,
            @InjectClusterRESTAddress URI restAddress)
            throws Exception {
        FlinkRest rest = new FlinkRest(restAddress);
        try (JobUnderTest job =
                new JobUnderTest(
                        KAFKA,
                        dir,
                        CONFIG,
                        2,
                        "--delivery",
                        delivery,
                        "--checkpoint-interval",
                        "500ms")) {
            job.start().awaitRunning(rest, TIMEOUT);
            AtomicInteger rounds = new AtomicInteger();
            CompletableFuture<List<RecordMetadata>> producing = produceSlowly(job.input, rounds);
            long lastFailure =
                    0; // epoch millis of the last TaskManager termination; 0 before the first
            for (int killAt : new int[] {30, 65}) {
                awaitRounds(rounds, killAt, producing);
                awaitCheckpointTriggeredAfter(cluster, job, lastFailure);
                cluster.terminateTaskManager(nextToTerminate++).get(30, TimeUnit.SECONDS);
                lastFailure = System.currentTimeMillis();
                cluster.startTaskManager();
            }
            List<RecordMetadata> landed = producing.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

            Map<Long, String> expectedByOffset =
                    new HashMap<>(); // one partition per tensor: offsets differ per tensor
            Map<String, List<String>> expectedByTensor = new HashMap<>();
            Map<Long, String> expectedEventByOffset = new HashMap<>();
            List<String> expectedEvents = new ArrayList<>();
            Replay replay = new Replay(ObserverConfigSource.fromYaml(CONFIG).config());
            for (int b = 0; b < BATCHES; b++) {
                for (int t = 0; t < TENSORS; t++) {
                    RecordMetadata m = landed.get(b * TENSORS + t);
                    String record =
                            new String(
                                    replay.apply(
                                            tensor(t),
                                            batch(t, b),
                                            null,
                                            m.topic(),
                                            m.partition(),
                                            m.offset()),
                                    StandardCharsets.UTF_8);
                    expectedByOffset.put(key(m.partition(), m.offset()), record);
                    if (replay.driftEvent() != null) {
                        String event = new String(replay.driftEvent(), StandardCharsets.UTF_8);
                        expectedEventByOffset.put(key(m.partition(), m.offset()), event);
                        expectedEvents.add(event);
                    }
                    expectedByTensor.computeIfAbsent(tensor(t), k -> new ArrayList<>()).add(record);
                }
            }

            try (TopicReader reader = TopicReader.qparams(KAFKA, job.output)) {
                List<ConsumerRecord<byte[], byte[]>> out =
                        reader.readUntil(r -> distinctOffsets(r) >= TENSORS * BATCHES, TIMEOUT);
                reader.readUntil(r -> false, Duration.ofSeconds(2)); // late duplicates, if any
                assertEquals(TENSORS * BATCHES, distinctOffsets(out), "every batch has its record");
                Map<String, List<String>> byTensor = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : out) {
                    String value = new String(r.value(), StandardCharsets.UTF_8);
                    JsonNode json = QParamsAssertions.parse(r.value());
                    JsonNode source = json.get("source");
                    String expected =
                            expectedByOffset.get(
                                    key(
                                            source.get("partition").asInt(),
                                            source.get("offset").asLong()));
                    assertEquals(
                            expected,
                            value,
                            "the record for " + source + " equals the failure-free replay's");
                    byTensor.computeIfAbsent(json.get("tensor").asText(), k -> new ArrayList<>())
                            .add(value);
                }
                int duplicates = 0;
                for (int t = 0; t < TENSORS; t++) {
                    List<String> expected = expectedByTensor.get(tensor(t));
                    List<String> got = byTensor.get(tensor(t));
                    if (delivery.equals("exactly-once")) {
                        assertEquals(
                                expected,
                                got,
                                tensor(t) + ": batches 1.." + BATCHES + ", no gap, no repeat");
                    } else {
                        assertEquals(
                                expected.get(BATCHES - 1),
                                lastByBatches(got),
                                tensor(t) + ": the last record");
                        assertEquals(
                                new HashSet<>(expected),
                                new HashSet<>(got),
                                tensor(t) + ": nothing but replay records");
                        duplicates += got.size() - BATCHES;
                    }
                }
                System.out.println(delivery + ": " + duplicates + " duplicate records");
            }
            assertDriftEvents(job, delivery, expectedEvents, expectedEventByOffset);
            // The first kill hits a TaskManager that runs tasks (slots are spread out), so the job
            // failed over at least once: wait for numRestarts to show it (REST metrics refresh
            // every few seconds). Not two: after the restart every task may sit on the other
            // TaskManagers, and then the second kill fails nothing (seen in CI).
            rest.awaitRestarts(job.jobId(), 1, TIMEOUT);
        }
    }

    /**
     * The events topic: exactly-once, the replay's events, each once (in log order per tensor);
     * at-least-once, each of them at least once and nothing else.
     */
    private static void assertDriftEvents(
            JobUnderTest job,
            String delivery,
            List<String> expected,
            Map<Long, String> expectedByOffset)
            throws Exception {
        assertTrue(expected.size() >= TENSORS, "the case has drift episodes: " + expected.size());
        try (TopicReader reader = TopicReader.driftEvents(KAFKA, job.events)) {
            List<ConsumerRecord<byte[], byte[]>> out =
                    reader.readUntil(r -> distinctOffsets(r) >= expected.size(), TIMEOUT);
            reader.readUntil(r -> false, Duration.ofSeconds(2)); // late duplicates, if any
            Map<String, List<String>> byTensor = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : out) {
                String value = new String(r.value(), StandardCharsets.UTF_8);
                JsonNode source = QParamsAssertions.parse(r.value()).get("source");
                assertEquals(
                        expectedByOffset.get(
                                key(
                                        source.get("partition").asInt(),
                                        source.get("offset").asLong())),
                        value,
                        "the event of " + source + " is the failure-free replay's");
                assertEquals(
                        QParamsAssertions.parse(r.value()).get("tensor").asText(),
                        new String(r.key(), StandardCharsets.UTF_8),
                        "keyed by tensor");
                byTensor.computeIfAbsent(
                                new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                        .add(value);
            }
            assertEquals(expected.size(), distinctOffsets(out), "every episode has its event");
            if (delivery.equals("exactly-once")) {
                Map<String, List<String>> expectedByTensor = new HashMap<>();
                for (String e : expected) {
                    expectedByTensor
                            .computeIfAbsent(
                                    QParamsAssertions.parse(e.getBytes(StandardCharsets.UTF_8))
                                            .get("tensor")
                                            .asText(),
                                    k -> new ArrayList<>())
                            .add(e);
                }
                assertEquals(expectedByTensor, byTensor, "each event once, in order");
            }
        }
    }

    private static long key(int partition, long offset) {
        return ((long) partition << 48) | offset;
    }

    private static int distinctOffsets(List<ConsumerRecord<byte[], byte[]>> records) {
        Set<Long> offsets = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            JsonNode source = QParamsAssertions.parse(r.value()).get("source");
            offsets.add(key(source.get("partition").asInt(), source.get("offset").asLong()));
        }
        return offsets.size();
    }

    private static String lastByBatches(List<String> records) {
        String last = null;
        long most = -1;
        for (String r : records) {
            long batches =
                    QParamsAssertions.parse(r.getBytes(StandardCharsets.UTF_8))
                            .get("batches")
                            .asLong();
            if (batches > most) {
                most = batches;
                last = r;
            }
        }
        return last;
    }

    /**
     * Waits until the producer has sent n rounds; fails if it stops or takes longer than the
     * timeout.
     */
    private static void awaitRounds(AtomicInteger rounds, int n, CompletableFuture<?> producing)
            throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (rounds.get() < n) {
            if (producing.isDone()) {
                producing.get(); // rethrows the producer's failure
                throw new AssertionError(
                        "the producer stopped after " + rounds.get() + " of " + n + " rounds");
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "the producer sent "
                                + rounds.get()
                                + " of "
                                + n
                                + " rounds within "
                                + TIMEOUT);
            }
            Thread.sleep(20);
        }
    }

    /**
     * Waits for a completed checkpoint triggered after {@code epochMillis} (the last failure),
     * asking the JobMaster itself: the REST server's copy may be seconds old. Flink triggers
     * checkpoints only while every task runs, so one triggered after the failure completes only
     * once the job runs again, on both TaskManagers: the next termination then hits a running job,
     * and it rolls back to this checkpoint, not to the start.
     */
    private static void awaitCheckpointTriggeredAfter(
            MiniCluster cluster, JobUnderTest job, long epochMillis) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            CompletedCheckpointStats latest =
                    cluster.getExecutionGraph(job.jobId())
                            .get(10, TimeUnit.SECONDS)
                            .getCheckpointStatsSnapshot()
                            .getHistory()
                            .getLatestCompletedCheckpoint();
            if (latest != null && latest.getTriggerTimestamp() > epochMillis) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "no checkpoint triggered after "
                                + epochMillis
                                + " completed within "
                                + TIMEOUT);
            }
            Thread.sleep(50);
        }
    }
}
