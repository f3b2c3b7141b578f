package io.qparams.job;

import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.connectors.records.StepHeaders;
import io.qparams.job.testutil.EmbeddedKafkaExtension;
import io.qparams.job.testutil.JobUnderTest;
import io.qparams.job.testutil.MiniClusters;
import io.qparams.job.testutil.NpyBytes;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.job.testutil.TopicReader;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.qparams.job.testutil.ObserverYaml.observers;
import static io.qparams.job.testutil.ObserverYaml.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Data-parallel shards through the whole job on a real broker: 4 ranks' NPY shards of every step,
 * interleaved at random (each rank's steps in order, as one producer per rank sends them), give one
 * record per step equal to the observer's update over the concatenated shards; a malformed header
 * and a late rank go to the DLQ; a step missing a rank is applied at the step timeout.
 */
class DataParallelStepsITCase {
    @RegisterExtension static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.oneTaskManager(4);

    static final String CONFIG =
            observers(rule("*", "MovingAverageMinMaxObserver", "averaging_constant: 0.125"));
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    static final int RANKS = 4;
    static final int STEPS = 6;
    static final List<String> TENSORS = List.of("block.0.out", "block.1.out");

    @TempDir Path dir;

    private final ObserverConfig config = ObserverConfigSource.fromYaml(CONFIG).config();

    private static ProducerRecord<byte[], byte[]> shard(
            String topic, String tensor, String step, String worldSize, String rank, float[] v) {
        ProducerRecord<byte[], byte[]> record =
                new ProducerRecord<>(
                        topic,
                        tensor.getBytes(StandardCharsets.UTF_8),
                        NpyBytes.npy("<f4", "(" + v.length + ",)", NpyBytes.f4(v)));
        record.headers().add(StepHeaders.STEP, step.getBytes(StandardCharsets.UTF_8));
        record.headers().add(StepHeaders.WORLD_SIZE, worldSize.getBytes(StandardCharsets.UTF_8));
        record.headers().add(StepHeaders.RANK, rank.getBytes(StandardCharsets.UTF_8));
        return record;
    }

    private static float[] values(Random random, int step) {
        float[] v = new float[1 + random.nextInt(16)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * (1 + step));
        }
        return v;
    }

    /** min/max of the concatenated shards by a plain loop: the oracle. */
    private static BatchMinMax concatenated(List<float[]> shards) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float[] shard : shards) {
            for (float v : shard) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        return BatchMinMax.perTensor(min, max);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void eachStepIsOneUpdateOverItsRanksInterleavedAtRandom() throws Exception {
        try (JobUnderTest job = new JobUnderTest(KAFKA, dir, CONFIG, 2).start();
                TopicReader out = TopicReader.qparams(KAFKA, job.output);
                TopicReader dlq = TopicReader.deadLetters(KAFKA, job.dlq)) {
            Random random = new Random(42);
            Map<String, List<List<float[]>>> shards = new HashMap<>(); // tensor -> step -> ranks
            // One queue of records per (tensor, rank), in step order; drained in random order.
            List<List<ProducerRecord<byte[], byte[]>>> queues = new ArrayList<>();
            for (String tensor : TENSORS) {
                List<List<float[]>> steps = new ArrayList<>();
                for (int s = 0; s < STEPS; s++) {
                    steps.add(new ArrayList<>());
                }
                shards.put(tensor, steps);
                for (int r = 0; r < RANKS; r++) {
                    List<ProducerRecord<byte[], byte[]>> queue = new ArrayList<>();
                    for (int s = 0; s < STEPS; s++) {
                        float[] v = values(random, s);
                        steps.get(s).add(v);
                        queue.add(shard(job.input, tensor, "" + s, "" + RANKS, "" + r, v));
                    }
                    queues.add(queue);
                }
            }
            List<ProducerRecord<byte[], byte[]>> input = new ArrayList<>();
            while (!queues.isEmpty()) {
                int q = random.nextInt(queues.size());
                input.add(queues.get(q).remove(0));
                if (queues.get(q).isEmpty()) {
                    queues.remove(q);
                }
            }
            String tensor = TENSORS.get(0);
            input.add(shard(job.input, tensor, "1", "four", "0", new float[] {1}));
            input.add(shard(job.input, tensor, "2", RANKS + "", "3", new float[] {99}));
            KAFKA.produce(input);

            List<ConsumerRecord<byte[], byte[]>> records =
                    out.readAtLeast(TENSORS.size() * STEPS, TIMEOUT);
            for (String name : TENSORS) {
                Observer observer = config.observerFor(name);
                ObserverState replay = observer.initialState();
                int step = 0;
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    JsonNode record = QParamsAssertions.parse(r.value());
                    if (!record.get("tensor").asText().equals(name)) {
                        continue;
                    }
                    assertEquals(step, record.get("step").asLong(), name + ": steps in order");
                    assertEquals(RANKS, record.get("ranks").asInt());
                    assertEquals(RANKS, record.get("world_size").asInt());
                    observer.update(replay, concatenated(shards.get(name).get(step)));
                    QParamsAssertions.assertRecordMatches(
                            record, replay, observer.calculateQParams(replay), name + " " + step);
                    step++;
                }
                assertEquals(STEPS, step, name + ": one record per step");
            }

            List<ConsumerRecord<byte[], byte[]>> dead = dlq.readAtLeast(2, TIMEOUT);
            List<String> reasons = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> letter : dead) {
                reasons.add(header(letter, "qparams.error"));
            }
            reasons.sort(null);
            assertEquals(
                    List.of(
                            "qparams.world-size 'four': expected a decimal integer from 0 to 65536",
                            "rank 3 of step 2 arrived after step " + (STEPS - 1) + " was applied"),
                    reasons);
            for (ConsumerRecord<byte[], byte[]> letter : dead) {
                assertEquals(tensor, new String(letter.key(), StandardCharsets.UTF_8));
                assertEquals(
                        "0".equals(header(letter, StepHeaders.RANK)) ? "four" : "4",
                        header(letter, StepHeaders.WORLD_SIZE),
                        "the headers as they came");
            }
        }
    }

    @Test
    void aStepMissingARankIsAppliedAtTheStepTimeout() throws Exception {
        try (JobUnderTest job =
                        new JobUnderTest(KAFKA, dir, CONFIG, 1, "--step-timeout", "3s").start();
                TopicReader out = TopicReader.qparams(KAFKA, job.output)) {
            String tensor = "block.2.out";
            List<float[]> sent = List.of(new float[] {-1, 2}, new float[] {3}, new float[] {-5});
            List<ProducerRecord<byte[], byte[]>> input = new ArrayList<>();
            // Rank 3 of 4 never sends. The 3 s timeout runs from the first shard the job reads: far
            // more than the job takes to read the other two, sent with it in one batch.
            for (int r = 0; r < sent.size(); r++) {
                input.add(shard(job.input, tensor, "10", "4", "" + r, sent.get(r)));
            }
            KAFKA.produce(input);
            JsonNode record = QParamsAssertions.parse(out.readAtLeast(1, TIMEOUT).get(0).value());
            assertEquals(3, record.get("ranks").asInt());
            assertEquals(4, record.get("world_size").asInt());
            assertEquals(10, record.get("step").asLong());
            Observer observer = config.observerFor(tensor);
            ObserverState replay = observer.initialState();
            observer.update(replay, concatenated(sent));
            QParamsAssertions.assertRecordMatches(
                    record, replay, observer.calculateQParams(replay), "the partial step");
        }
    }
}
