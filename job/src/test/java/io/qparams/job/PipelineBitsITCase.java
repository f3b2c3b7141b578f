package io.qparams.job;

import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.connectors.batch.NpyWriter;
import io.qparams.job.testutil.EmbeddedKafkaExtension;
import io.qparams.job.testutil.JobUnderTest;
import io.qparams.job.testutil.JsonBatches;
import io.qparams.job.testutil.MiniClusters;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.job.testutil.TopicReader;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.BatchReducer;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.qparams.job.testutil.ObserverYaml.SYMMETRIC_WEIGHTS;
import static io.qparams.job.testutil.ObserverYaml.rule;
import static io.qparams.job.testutil.ObserverYaml.withNonfinite;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The pipeline preserves bits and per-tensor order: every qparams record equals an in-test replay
 * of that tensor's batches, in partition order, through the observers API (NPY, JSON tensors and
 * JSON stats; per-tensor and per-channel observers; parallelism 2 over 4 input partitions).
 */
class PipelineBitsITCase {
    @RegisterExtension static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.oneTaskManager(4);

    static final String CONFIG =
            withNonfinite(
                    "reject",
                    SYMMETRIC_WEIGHTS,
                    rule(
                            "*.pc_act",
                            "MovingAveragePerChannelMinMaxObserver",
                            "ch_axis: 1",
                            "averaging_constant: 0.1"),
                    rule("minmax.*", "MinMaxObserver", "qscheme: per_tensor_symmetric"),
                    rule(
                            "*",
                            "MovingAverageMinMaxObserver",
                            "averaging_constant: 0.01",
                            "dtype: quint8",
                            "qscheme: per_tensor_affine"));

    static final String[] TENSORS = {
        "enc.0.weight", "enc.0.pc_act", "minmax.logits", "enc.0.out", "enc.1.out", "dec.out"
    };
    static final long[][] SHAPES = {{4, 6}, {3, 5}, {2, 8}, {16}, {4, 4}, {2, 3, 4}};
    static final int BATCHES_PER_TENSOR = 9;

    @TempDir Path dir;

    /** One produced batch and what the observers API reduces it to. */
    record Sent(String tensor, BatchMinMax reduced) {}

    /** Exactly-once: output shows at checkpoints, in transactions; the reader is read_committed. */
    @ParameterizedTest(name = "--delivery {0}")
    @ValueSource(strings = {"at-least-once", "exactly-once"})
    void everyRecordEqualsTheObserverReplayInPartitionOrder(String delivery) throws Exception {
        try (JobUnderTest job = new JobUnderTest(KAFKA, dir, CONFIG, 2, "--delivery", delivery)) {
            ObserverConfig config = ObserverConfigSource.fromYaml(CONFIG).config();
            Random random = new Random(20261127L);
            List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
            List<Sent> sent = new ArrayList<>();
            for (int b = 0; b < BATCHES_PER_TENSOR; b++) {
                for (int t = 0; t < TENSORS.length; t++) {
                    String tensor = TENSORS[t];
                    long[] shape = SHAPES[t];
                    float[] data = randomData(random, shape, b);
                    Observer observer = config.observerFor(tensor);
                    BatchReducer reducer =
                            BatchReducer.forSpec(observer.spec(), shape, false, config.nonFinite());
                    reducer.accept(data, 0, data.length);
                    BatchMinMax reduced = reducer.finish();
                    byte[] value;
                    String contentType = null;
                    switch ((b + t) % 3) {
                        case 0:
                            value = NpyWriter.float32(shape, data);
                            break;
                        case 1:
                            value = JsonBatches.tensor(shape, data);
                            contentType = b % 2 == 0 ? "application/json" : null; // sniffed or told
                            break;
                        default:
                            value =
                                    reduced.isPerChannel()
                                            ? JsonBatches.stats(reduced.min(), reduced.max())
                                            : JsonBatches.stats(reduced.min(0), reduced.max(0));
                    }
                    ProducerRecord<byte[], byte[]> record =
                            new ProducerRecord<>(
                                    job.input, tensor.getBytes(StandardCharsets.UTF_8), value);
                    if (contentType != null) {
                        record.headers()
                                .add("content-type", contentType.getBytes(StandardCharsets.UTF_8));
                    }
                    records.add(record);
                    sent.add(new Sent(tensor, reduced));
                }
            }
            job.start();
            List<RecordMetadata> landed = KAFKA.produce(records);

            int expected = records.size();
            try (TopicReader reader = TopicReader.qparams(KAFKA, job.output)) {
                List<ConsumerRecord<byte[], byte[]>> out =
                        reader.readAtLeast(expected, Duration.ofSeconds(90));
                assertEquals(expected, out.size(), "one qparams record per batch, no more");
                assertReplayMatches(config, sent, landed, out);
            }
        }
    }

    /** Groups both sides by tensor; the output of one tensor is in one partition, in order. */
    private static void assertReplayMatches(
            ObserverConfig config,
            List<Sent> sent,
            List<RecordMetadata> landed,
            List<ConsumerRecord<byte[], byte[]>> out)
            throws Exception {
        Map<String, List<JsonNode>> outputs = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : out) {
            String key = new String(record.key(), StandardCharsets.UTF_8);
            JsonNode json = QParamsAssertions.parse(record.value());
            assertEquals(key, json.get("tensor").asText(), "record key is the tensor");
            outputs.computeIfAbsent(key, k -> new ArrayList<>()).add(json);
        }
        Map<String, ObserverState> states = new HashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < sent.size(); i++) {
            Sent s = sent.get(i);
            Observer observer = config.observerFor(s.tensor());
            ObserverState state = states.computeIfAbsent(s.tensor(), t -> observer.initialState());
            observer.update(state, s.reduced());
            int n = seen.merge(s.tensor(), 1, Integer::sum);
            List<JsonNode> records = outputs.get(s.tensor());
            String where = s.tensor() + " batch " + n;
            JsonNode record = records.get(n - 1);
            QParamsAssertions.assertRecordMatches(
                    record, state, observer.calculateQParams(state), where);
            assertEquals(n, record.get("batches").asInt(), where + ": batches runs 1..N");
            RecordMetadata source = landed.get(i);
            JsonNode src = record.get("source");
            assertEquals(source.topic(), src.get("topic").asText(), where + ": source.topic");
            assertEquals(
                    source.partition(), src.get("partition").asInt(), where + ": source.partition");
            assertEquals(source.offset(), src.get("offset").asLong(), where + ": source.offset");
        }
        for (String tensor : TENSORS) {
            assertEquals(BATCHES_PER_TENSOR, outputs.get(tensor).size(), tensor + ": records");
        }
    }

    /** Values on a drifting scale, so moving averages and running min/max both move. */
    private static float[] randomData(Random random, long[] shape, int batch) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] data = new float[n];
        double scale = 0.5 + batch * 0.37 + random.nextDouble();
        double shift = random.nextGaussian() * 0.3;
        for (int i = 0; i < n; i++) {
            data[i] = (float) (random.nextGaussian() * scale + shift);
        }
        return data;
    }
}
