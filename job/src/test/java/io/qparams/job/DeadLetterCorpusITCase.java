package io.qparams.job;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.connectors.batch.NpyWriter;
import io.qparams.connectors.records.DeadLetters;
import io.qparams.job.testutil.EmbeddedKafkaExtension;
import io.qparams.job.testutil.FlinkRest;
import io.qparams.job.testutil.JobUnderTest;
import io.qparams.job.testutil.JsonBatches;
import io.qparams.job.testutil.MiniClusters;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.job.testutil.Replay;
import io.qparams.job.testutil.TopicReader;
import io.qparams.observers.InvalidBatchException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.qparams.job.testutil.NpyBytes.f4;
import static io.qparams.job.testutil.NpyBytes.npy;
import static io.qparams.job.testutil.ObserverYaml.SYMMETRIC_WEIGHTS;
import static io.qparams.job.testutil.ObserverYaml.rule;
import static io.qparams.job.testutil.ObserverYaml.withNonfinite;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A corpus of bad records, each sent through the running job between two good batches of the same
 * tensor: every bad one reaches the DLQ with a reason naming its problem, the good ones around it
 * come out bit for bit as a replay says, and the job never restarts (numRestarts over REST stays
 * 0). One job per nonfinite policy, all three at once on one MiniCluster; a table row per kind of
 * bad record, named in every failure message.
 */
class DeadLetterCorpusITCase {
    @RegisterExtension static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.oneTaskManager(4, fastMetrics());

    static final int MAX_BATCH_BYTES = 4096;
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    /**
     * {@code .act}: per-tensor; {@code .weight}: per-channel on axis 0; {@code .axis2}: per-channel
     * on axis 2.
     */
    static String config(String nonfinite) {
        return withNonfinite(
                nonfinite,
                SYMMETRIC_WEIGHTS,
                rule("*.axis2", "MovingAveragePerChannelMinMaxObserver", "ch_axis: 2"),
                rule("*.act", "MovingAverageMinMaxObserver", "averaging_constant: 0.25"));
    }

    private static Configuration fastMetrics() {
        Configuration conf = new Configuration();
        conf.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, Duration.ofMillis(500));
        return conf;
    }

    enum Topic {
        INPUT,
        CONTROL
    }

    /**
     * One row: a record sent to {@code topic} under {@code key} between two good batches of {@code
     * tensor}. {@code reason}: what its DLQ reason must contain; null when the job accepts it.
     */
    record Case(
            String name,
            String tensor,
            Topic topic,
            String key,
            byte[] value,
            String contentType,
            String reason) {
        String where() {
            return "[" + name + "]";
        }
    }

    private static final byte[] THREE = f4(1, 2, 3);

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Case refused(String name, String tensor, byte[] value, String reason) {
        return new Case(name, tensor, Topic.INPUT, tensor, value, null, reason);
    }

    private static Case accepted(String name, String tensor, byte[] value) {
        return new Case(name, tensor, Topic.INPUT, tensor, value, null, null);
    }

    /** The kinds of bad input under {@code nonfinite: reject}; tensors are named per row. */
    static List<Case> rejectCases() {
        byte[] valid = NpyWriter.float32(new long[] {3}, new float[] {1, 2, 3});
        byte[] version4 = valid.clone();
        version4[6] = 4;
        byte[] oversized = NpyWriter.float32(new long[] {2000}, new float[2000]);
        List<Case> cases = new ArrayList<>();
        cases.add(
                new Case(
                        "no key",
                        "c.nokey.act",
                        Topic.INPUT,
                        null,
                        JsonBatches.stats(-1f, 1f),
                        null,
                        "record has no key"));
        cases.add(refused("empty value", "c.empty.act", new byte[0], "record value is empty"));
        cases.add(refused("null value (tombstone)", "c.null.act", null, "record has no value"));
        cases.add(
                refused(
                        "truncated NPY header",
                        "c.trunc.act",
                        Arrays.copyOf(valid, 30),
                        "truncated NPY header"));
        cases.add(
                refused(
                        "corrupt NPY header dict",
                        "c.dict.act",
                        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)", THREE),
                        "Python dict literal"));
        cases.add(
                refused(
                        "unknown NPY version",
                        "c.version.act",
                        version4,
                        "unsupported NPY format version 4.0"));
        cases.add(
                refused(
                        "complex dtype",
                        "c.complex.act",
                        npy("<c8", "(1,)", new byte[8]),
                        "(complex)"));
        cases.add(
                refused(
                        "object dtype",
                        "c.object.act",
                        npy("|O", "(3,)", new byte[24]),
                        "(object)"));
        cases.add(
                refused(
                        "string dtype",
                        "c.string.act",
                        npy("<U1", "(3,)", new byte[12]),
                        "(string)"));
        cases.add(refused("bool dtype", "c.bool.act", npy("|b1", "(12,)", new byte[12]), "(bool)"));
        cases.add(
                refused(
                        "shape and data length disagree",
                        "c.length.act",
                        npy("<f4", "(4,)", THREE),
                        "NPY data holds 12 bytes but shape (4,)"));
        cases.add(
                refused(
                        "header claiming 10^12 elements",
                        "c.huge.act",
                        npy("<f4", "(1000000000000,)", THREE),
                        "needs 4000000000000 bytes"));
        cases.add(
                refused(
                        "JSON syntax error",
                        "c.syntax.act",
                        utf8("{\"shape\": [2], \"data\": [1, 2"),
                        "invalid JSON"));
        cases.add(
                refused(
                        "JSON boolean in data",
                        "c.bool-data.act",
                        utf8("{\"shape\": [2], \"data\": [true, 1]}"),
                        "holds a boolean where a number belongs"));
        cases.add(
                refused(
                        "JSON shape a string",
                        "c.shape-str.act",
                        utf8("{\"shape\": \"2\", \"data\": [1, 2]}"),
                        "'shape' must be a list"));
        cases.add(
                refused(
                        "JSON stats min a string",
                        "c.min-str.act",
                        utf8("{\"min\": \"low\", \"max\": 1}"),
                        "'min' holds the string \"low\""));
        cases.add(
                refused(
                        "stats min > max",
                        "c.minmax.act",
                        utf8("{\"min\": 2.5, \"max\": -1}"),
                        "stats min > max (2.5 > -1.0)"));
        cases.add(
                refused(
                        "stats of mismatched lengths",
                        "c.lengths.weight",
                        utf8("{\"min\": [1, 2, 0], \"max\": [3, 4, 5, 6]}"),
                        "stats min has 3 entries but max has 4"));
        cases.add(
                refused(
                        "per-channel stats for a per-tensor observer",
                        "c.vec.act",
                        utf8("{\"min\": [1], \"max\": [2]}"),
                        "list stats for per-tensor observer"));
        cases.add(
                refused(
                        "per-tensor stats for a per-channel observer",
                        "c.scalar.weight",
                        utf8("{\"min\": 1, \"max\": 2}"),
                        "scalar stats for per-channel observer"));
        cases.add(
                refused(
                        "changed channel count",
                        "c.channels.weight",
                        JsonBatches.stats(new float[] {-1, -2, -3, -4}, new float[] {1, 2, 3, 4}),
                        "channel count"));
        cases.add(
                refused(
                        "1-d batch for a per-channel observer (ch_axis 0)",
                        "c.axis0.weight",
                        NpyWriter.float32(new long[] {3}, new float[] {1, 2, 3}),
                        "ch_axis 0 does not fit a 1-d batch"));
        cases.add(
                refused(
                        "ch_axis 2 out of range of a 2-d batch",
                        "c.axis2.axis2",
                        JsonBatches.tensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}),
                        "ch_axis 2 does not fit a 2-d batch"));
        cases.add(
                refused(
                        "NaN under reject",
                        "c.nan.act",
                        utf8("{\"shape\": [3], \"data\": [1.0, \"NaN\", 2.0]}"),
                        "NaN (nonfinite: reject)"));
        cases.add(
                refused(
                        "inf under reject",
                        "c.inf.act",
                        npy("<f4", "(3,)", f4(1, Float.POSITIVE_INFINITY, 3)),
                        "infinite values"));
        cases.add(
                new Case(
                        "tensor no rule matches",
                        "c.rule.act",
                        Topic.INPUT,
                        "c.rule.unmatched",
                        JsonBatches.stats(0f, 1f),
                        null,
                        "no observer rule matches tensor 'c.rule.unmatched'"));
        cases.add(
                new Case(
                        "malformed control message",
                        "c.ctl-json.act",
                        Topic.CONTROL,
                        "c.ctl-json.act",
                        utf8("{\"op\": "),
                        null,
                        "control message is not valid JSON"));
        cases.add(
                new Case(
                        "unknown control op",
                        "c.ctl-op.act",
                        Topic.CONTROL,
                        "c.ctl-op.act",
                        utf8("{\"op\": \"explode\"}"),
                        null,
                        "unknown control op 'explode'"));
        cases.add(
                new Case(
                        "control message without key",
                        "c.ctl-nokey.act",
                        Topic.CONTROL,
                        null,
                        utf8("{\"op\": \"reset\"}"),
                        null,
                        "record has no key"));
        cases.add(
                refused(
                        "record over --max-batch-bytes",
                        "c.size.act",
                        oversized,
                        "record value of "
                                + oversized.length
                                + " bytes exceeds the limit of "
                                + MAX_BATCH_BYTES
                                + " bytes"));
        return cases;
    }

    static List<Case> ignoreCases() {
        return List.of(
                accepted(
                        "NaN under ignore is observed without it",
                        "i.nan.act",
                        utf8("{\"shape\": [3], \"data\": [-7.5, \"NaN\", 2.0]}")),
                accepted(
                        "inf under ignore is observed without it",
                        "i.inf.act",
                        npy("<f4", "(3,)", f4(-0.5f, Float.NEGATIVE_INFINITY, 9))),
                refused(
                        "nothing finite under ignore",
                        "i.none.act",
                        utf8("{\"shape\": [2], \"data\": [\"NaN\", \"Infinity\"]}"),
                        "no finite values"));
    }

    static List<Case> propagateCases() {
        return List.of(
                accepted(
                        "NaN under propagate gives status invalid",
                        "p.nan.act",
                        utf8("{\"shape\": [3], \"data\": [1.0, \"NaN\", 2.0]}")),
                accepted(
                        "inf under propagate is observed as torch does",
                        "p.inf.act",
                        npy("<f4", "(3,)", f4(1, Float.POSITIVE_INFINITY, 3))));
    }

    @TempDir Path dir;

    @Test
    void everyBadRecordReachesTheDeadLettersAndTheJobNeverRestarts(
            @InjectClusterRESTAddress URI restAddress) throws Exception {
        FlinkRest rest = new FlinkRest(restAddress);
        try (JobUnderTest reject =
                        new JobUnderTest(
                                KAFKA,
                                dir,
                                config("reject"),
                                2,
                                "--max-batch-bytes",
                                Integer.toString(MAX_BATCH_BYTES));
                JobUnderTest ignore = new JobUnderTest(KAFKA, dir, config("ignore"), 1);
                JobUnderTest propagate = new JobUnderTest(KAFKA, dir, config("propagate"), 1)) {
            Map<JobUnderTest, List<Case>> runs = new LinkedHashMap<>();
            runs.put(reject, rejectCases());
            runs.put(ignore, ignoreCases());
            runs.put(propagate, propagateCases());
            assertTrue(runs.get(reject).size() >= 20, "at least 20 kinds of bad record");
            for (JobUnderTest job : runs.keySet()) {
                job.start();
            }
            for (JobUnderTest job : runs.keySet()) {
                job.awaitRunning(rest, TIMEOUT);
            }
            Map<JobUnderTest, Sent> sent = new HashMap<>();
            for (Map.Entry<JobUnderTest, List<Case>> run : runs.entrySet()) {
                sent.put(run.getKey(), send(run.getKey(), run.getValue()));
            }
            for (Map.Entry<JobUnderTest, List<Case>> run : runs.entrySet()) {
                check(run.getKey(), run.getValue(), sent.get(run.getKey()));
            }
            // Every output is in: any restart a bad record caused happened before now. The
            // JobClient's status
            // is the JobMaster's own; numRestarts and the exception history come through REST.
            for (JobUnderTest job : runs.keySet()) {
                assertEquals(
                        JobStatus.RUNNING,
                        job.client().getJobStatus().get(10, TimeUnit.SECONDS),
                        job.options.config() + ": job state");
                assertEquals(
                        0, rest.numRestarts(job.jobId()), job.options.config() + ": numRestarts");
                assertEquals(
                        0,
                        rest.exceptionCount(job.jobId()),
                        job.options.config() + ": job exceptions");
            }
        }
    }

    /**
     * Where each row's records landed: the good batch before, the row's record, the good batch
     * after.
     */
    record Sent(List<RecordMetadata[]> landed) {}

    private static byte[] good(Case c, int which) {
        if (c.tensor().endsWith(".weight") || c.tensor().endsWith(".axis2")) {
            float s = which == 0 ? 1f : 2.5f;
            return JsonBatches.stats(new float[] {-s, -2 * s, 0.5f}, new float[] {s, 3 * s, 0.75f});
        }
        return which == 0 ? JsonBatches.stats(-1.5f, 2.0f) : JsonBatches.stats(-0.25f, 6.5f);
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value) {
        return new ProducerRecord<>(
                topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static Sent send(JobUnderTest job, List<Case> cases) throws Exception {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (Case c : cases) {
            records.add(record(job.input, c.tensor(), good(c, 0)));
            records.add(
                    record(c.topic() == Topic.INPUT ? job.input : job.control, c.key(), c.value()));
            records.add(record(job.input, c.tensor(), good(c, 1)));
        }
        List<RecordMetadata> landed = KAFKA.produce(records);
        List<RecordMetadata[]> perCase = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            perCase.add(
                    new RecordMetadata[] {
                        landed.get(3 * i), landed.get(3 * i + 1), landed.get(3 * i + 2)
                    });
        }
        return new Sent(perCase);
    }

    private static void check(JobUnderTest job, List<Case> cases, Sent sent) throws Exception {
        long deadLetters = cases.stream().filter(c -> c.reason() != null).count();
        long outputs = 2L * cases.size() + cases.stream().filter(c -> c.reason() == null).count();
        List<ConsumerRecord<byte[], byte[]>> dead;
        List<ConsumerRecord<byte[], byte[]>> out;
        try (TopicReader dlq = TopicReader.deadLetters(KAFKA, job.dlq);
                TopicReader qparams = TopicReader.qparams(KAFKA, job.output)) {
            out = qparams.readAtLeast((int) outputs, TIMEOUT);
            dead = dlq.readUntil(r -> r.size() >= deadLetters, TIMEOUT);
            qparams.readUntil(
                    r -> false,
                    Duration.ofSeconds(1)); // anything beyond the expected would show now
            dlq.readUntil(r -> false, Duration.ofMillis(200));
        }
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            if (c.reason() != null) {
                checkDeadLetter(c, find(dead, sent.landed().get(i)[1], c));
            }
        }
        assertEquals(
                deadLetters,
                dead.size(),
                job.options.config() + ": one dead letter per bad record, no more");
        assertEquals(
                outputs,
                out.size(),
                job.options.config() + ": one qparams record per good batch, no more");
        checkOutputs(job, cases, sent, out);
    }

    private static void checkDeadLetter(Case c, ConsumerRecord<byte[], byte[]> letter) {
        String reason = header(letter, DeadLetters.ERROR);
        assertNotNull(reason, c.where() + " has no reason header");
        assertFalse(
                reason.isBlank() || reason.contains("\n") || reason.contains("\r"),
                c.where() + " reason: " + reason);
        assertTrue(
                reason.contains(c.reason()),
                c.where() + " reason '" + reason + "' should name '" + c.reason() + "'");
        assertEquals(
                c.key(),
                letter.key() == null ? null : new String(letter.key(), StandardCharsets.UTF_8),
                c.where() + " the original key");
        if (!c.name()
                .equals("changed channel count")) { // refused after the keyBy: the batch as JSON
            // stats
            assertArrayEquals(c.value(), letter.value(), c.where() + " the original value");
        }
    }

    /**
     * Each tensor's records, in order, equal the replay of its good batches (and accepted rows).
     */
    private static void checkOutputs(
            JobUnderTest job, List<Case> cases, Sent sent, List<ConsumerRecord<byte[], byte[]>> out)
            throws Exception {
        Map<String, List<ConsumerRecord<byte[], byte[]>>> byTensor = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : out) {
            byTensor.computeIfAbsent(
                            new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(r);
        }
        Replay replay = new Replay(job.options.observerConfig().config());
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            List<byte[]> expected = new ArrayList<>();
            RecordMetadata[] landed = sent.landed().get(i);
            for (int k = 0; k < 3; k++) {
                if (k == 1 && (c.reason() != null || c.topic() == Topic.CONTROL)) {
                    continue;
                }
                byte[] value = k == 1 ? c.value() : good(c, k == 0 ? 0 : 1);
                try {
                    expected.add(
                            replay.apply(
                                    c.tensor(),
                                    value,
                                    null,
                                    landed[k].topic(),
                                    landed[k].partition(),
                                    landed[k].offset()));
                } catch (InvalidBatchException e) {
                    throw new AssertionError(
                            c.where() + " the replay refuses record " + k + ": " + e.getMessage());
                }
            }
            List<ConsumerRecord<byte[], byte[]>> got = byTensor.getOrDefault(c.tensor(), List.of());
            assertEquals(expected.size(), got.size(), c.where() + " records of " + c.tensor());
            for (int k = 0; k < expected.size(); k++) {
                assertEquals(
                        new String(expected.get(k), StandardCharsets.UTF_8),
                        new String(got.get(k).value(), StandardCharsets.UTF_8),
                        c.where() + " record " + k);
            }
            if (c.name().contains("status invalid")) {
                JsonNode json = QParamsAssertions.parse(got.get(1).value());
                assertEquals("invalid", json.get("status").asText(), c.where());
                assertTrue(json.get("scale").isNull(), c.where() + " scale is null");
            }
        }
    }

    private static ConsumerRecord<byte[], byte[]> find(
            List<ConsumerRecord<byte[], byte[]>> dead, RecordMetadata source, Case c) {
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            if (source.topic().equals(header(r, DeadLetters.SOURCE_TOPIC))
                    && String.valueOf(source.partition())
                            .equals(header(r, DeadLetters.SOURCE_PARTITION))
                    && String.valueOf(source.offset())
                            .equals(header(r, DeadLetters.SOURCE_OFFSET))) {
                return r;
            }
        }
        throw new AssertionError(c.where() + " no dead letter for " + source);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null || h.value() == null
                ? null
                : new String(h.value(), StandardCharsets.UTF_8);
    }
}
