package io.qparams.job;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.job.testutil.EmbeddedKafkaExtension;
import io.qparams.job.testutil.JobUnderTest;
import io.qparams.job.testutil.JsonBatches;
import io.qparams.job.testutil.MiniClusters;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.job.testutil.ReportedMetrics;
import io.qparams.job.testutil.TopicReader;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.qparams.job.testutil.ObserverYaml.rule;
import static io.qparams.job.testutil.ObserverYaml.withNonfinite;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad records reach the DLQ with their reasons while good ones keep flowing; resets restart
 * observers. The job's counters (batches applied, dead letters by reason class, resets) say the
 * same, summed over subtasks.
 */
class DeadLettersAndResetITCase {
    @RegisterExtension static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    static final ReportedMetrics METRICS = new ReportedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            MiniClusters.oneTaskManager(4, METRICS.addTo(new Configuration()));

    static final String CONFIG =
            withNonfinite(
                    "reject",
                    rule("*.weight", "PerChannelMinMaxObserver"),
                    rule("layer.*", "MinMaxObserver"));
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir Path dir;

    private static ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value) {
        return new ProducerRecord<>(
                topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void badRecordsGoToTheDeadLettersAndGoodOnesKeepFlowing() throws Exception {
        try (JobUnderTest job =
                new JobUnderTest(KAFKA, dir, CONFIG, 2, "--max-batch-bytes", "4096").start()) {
            byte[] garbage = {0x00, 0x01, 'g', 'a', 'r', 'b', 'a', 'g', 'e'};
            byte[] nan =
                    "{\"shape\": [3], \"data\": [1.0, \"NaN\", 2.0]}"
                            .getBytes(StandardCharsets.UTF_8);
            byte[] three = JsonBatches.stats(new float[] {-1, -2, -3}, new float[] {1, 2, 3});
            byte[] four = JsonBatches.stats(new float[] {-1, -2, -3, -4}, new float[] {1, 2, 3, 4});
            List<ProducerRecord<byte[], byte[]>> input =
                    List.of(
                            record(
                                    job.input,
                                    "layer.a",
                                    JsonBatches.stats(-1.0f, 1.0f)), // ok, batch 1
                            record(job.input, null, JsonBatches.stats(-1.0f, 1.0f)), // no key
                            record(job.input, "layer.a", garbage), // undecodable
                            record(job.input, "layer.a", nan), // NaN under reject
                            record(job.input, "other.tensor", JsonBatches.stats(0f, 1f)), // no rule
                            record(job.input, "layer.w.weight", three), // ok, batch 1
                            record(job.input, "layer.w.weight", four), // channel count changed
                            record(
                                    job.input,
                                    "layer.a",
                                    JsonBatches.stats(-3.0f, 0.5f)), // ok, batch 2
                            record(job.input, "layer.w.weight", three), // ok, batch 2
                            record(job.input, "layer.\u0007bell", three), // not a tensor name
                            new ProducerRecord<>( // a step header that is no number
                                    job.input,
                                    null,
                                    "layer.s".getBytes(StandardCharsets.UTF_8),
                                    three,
                                    new RecordHeaders().add("qparams.step", new byte[] {'x'})),
                            record(job.input, "layer.big", new byte[4097])); // over the limit
            List<RecordMetadata> landed = KAFKA.produce(input);
            List<RecordMetadata> controlLanded =
                    KAFKA.produce(
                            List.of(
                                    record(
                                            job.control,
                                            "layer.a",
                                            "{\"op\": \"explode\""
                                                    .getBytes(StandardCharsets.UTF_8))));

            try (TopicReader dlq = TopicReader.deadLetters(KAFKA, job.dlq);
                    TopicReader out = TopicReader.qparams(KAFKA, job.output)) {
                List<ConsumerRecord<byte[], byte[]>> dead = dlq.readAtLeast(9, TIMEOUT);
                List<ConsumerRecord<byte[], byte[]>> good = out.readAtLeast(4, TIMEOUT);

                int[] deadInputs = {1, 2, 3, 4, 6, 9, 10, 11};
                for (int i : deadInputs) {
                    ConsumerRecord<byte[], byte[]> letter = find(dead, landed.get(i));
                    String reason = header(letter, "qparams.error");
                    assertTrue(
                            reason != null && !reason.isBlank() && !reason.contains("\n"),
                            "reason: " + reason);
                    assertEquals(
                            String.valueOf(landed.get(i).partition()),
                            header(letter, "qparams.source.partition"));
                    if (i != 6) {
                        assertEquals(
                                new String(input.get(i).value(), StandardCharsets.UTF_8),
                                new String(letter.value(), StandardCharsets.UTF_8),
                                "the original value");
                    }
                }
                assertEquals(
                        "record has no key: the key must be the tensor name",
                        header(find(dead, landed.get(1)), "qparams.error"));
                assertTrue(header(find(dead, landed.get(3)), "qparams.error").contains("NaN"));
                assertTrue(
                        header(find(dead, landed.get(4)), "qparams.error")
                                .contains("other.tensor"));
                assertEquals(
                        "tensor name 'layer. bell' holds a control character (U+0007) at character"
                                + " 6",
                        header(find(dead, landed.get(9)), "qparams.error"));
                ConsumerRecord<byte[], byte[]> changed = find(dead, landed.get(6));
                assertTrue(
                        header(changed, "qparams.error").contains("channel count"),
                        header(changed, "qparams.error"));
                JsonNode stats = QParamsAssertions.parse(changed.value());
                assertEquals(4, stats.get("min").size(), "the refused batch as JSON stats");
                ConsumerRecord<byte[], byte[]> badControl = find(dead, controlLanded.get(0));
                assertFalse(header(badControl, "qparams.error").isBlank());

                List<String> batches = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : good) {
                    JsonNode json = QParamsAssertions.parse(r.value());
                    batches.add(json.get("tensor").asText() + "#" + json.get("batches").asInt());
                }
                batches.sort(null);
                assertEquals(
                        List.of("layer.a#1", "layer.a#2", "layer.w.weight#1", "layer.w.weight#2"),
                        batches);
            }
            METRICS.awaitCounts(
                    job.jobId(),
                    Map.ofEntries(
                            Map.entry("batches_applied", 4L),
                            Map.entry("resets", 0L),
                            Map.entry("dead_letters.key", 2L), // no key, a bell in the name
                            Map.entry("dead_letters.decode", 1L),
                            Map.entry("dead_letters.nonfinite", 1L),
                            Map.entry("dead_letters.no_rule", 1L),
                            Map.entry("dead_letters.observer", 1L), // the channel count
                            Map.entry("dead_letters.step", 1L),
                            Map.entry("dead_letters.size", 1L),
                            Map.entry("dead_letters.control", 1L),
                            // the one NaN of the refused batch: counted, though refused
                            Map.entry("nonfinite_values", 1L),
                            Map.entry("drift_events", 0L)), // no drift rule in this config
                    TIMEOUT);
        }
    }

    private static ConsumerRecord<byte[], byte[]> find(
            List<ConsumerRecord<byte[], byte[]>> dead, RecordMetadata source) {
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            if (source.topic().equals(header(r, "qparams.source.topic"))
                    && String.valueOf(source.offset()).equals(header(r, "qparams.source.offset"))
                    && String.valueOf(source.partition())
                            .equals(header(r, "qparams.source.partition"))) {
                return r;
            }
        }
        throw new AssertionError("no dead letter for " + source);
    }

    @Test
    void resetOnTheControlTopicRestartsTheObserver(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        try (JobUnderTest job = new JobUnderTest(KAFKA, dir, null, 2).start();
                TopicReader out = TopicReader.qparams(KAFKA, job.output);
                TopicReader dlq = TopicReader.deadLetters(KAFKA, job.dlq)) {
            String tensor = "encoder.layer.0.output";
            float[][] stats = {{-1f, 1f}, {-2f, 0.5f}, {-0.25f, 3f}, {-4f, 4f}, {0.125f, 0.75f}};
            List<ProducerRecord<byte[], byte[]>> first = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                first.add(record(job.input, tensor, JsonBatches.stats(stats[i][0], stats[i][1])));
            }
            KAFKA.produce(first);
            out.readAtLeast(3, TIMEOUT);

            // The reset, then a marker: when the marker's dead letter shows, the reset has been
            // read.
            KAFKA.produce(
                    List.of(
                            record(
                                    job.control,
                                    tensor,
                                    "{\"op\": \"reset\"}".getBytes(StandardCharsets.UTF_8)),
                            record(
                                    job.control,
                                    "marker",
                                    "not json".getBytes(StandardCharsets.UTF_8))));
            dlq.readAtLeast(1, TIMEOUT);
            // The reset travels to the observer over its own channel, unordered with the input's. A
            // checkpoint
            // triggered now has its barrier behind the reset on that channel and completes only
            // when the
            // observer took the barrier, so when it completes the observer has applied the reset.
            cluster.triggerCheckpoint(job.jobId()).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

            KAFKA.produce(
                    List.of(
                            record(job.input, tensor, JsonBatches.stats(stats[3][0], stats[3][1])),
                            record(
                                    job.input,
                                    tensor,
                                    JsonBatches.stats(stats[4][0], stats[4][1]))));
            List<ConsumerRecord<byte[], byte[]>> records = out.readAtLeast(5, TIMEOUT);
            METRICS.awaitCounts(
                    job.jobId(),
                    Map.of("batches_applied", 5L, "resets", 1L, "dead_letters.control", 1L),
                    TIMEOUT);

            Observer observer = ObserverConfigSource.defaults().config().observerFor(tensor);
            ObserverState replay = observer.initialState();
            int[] expectedBatches = {1, 2, 3, 1, 2};
            for (int i = 0; i < 5; i++) {
                if (i == 3) {
                    replay = observer.initialState();
                }
                observer.update(replay, BatchMinMax.perTensor(stats[i][0], stats[i][1]));
                JsonNode json = QParamsAssertions.parse(records.get(i).value());
                assertEquals(expectedBatches[i], json.get("batches").asInt(), "record " + i);
                QParamsAssertions.assertRecordMatches(
                        json, replay, observer.calculateQParams(replay), "record " + i);
            }
        }
    }
}
