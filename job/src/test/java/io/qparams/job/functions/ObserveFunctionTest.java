package io.qparams.job.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.kafka.QParamsOutput;
import io.qparams.job.JobOptions.IncompleteSteps;
import io.qparams.job.ObserverConfigSource;
import io.qparams.job.records.TensorEvent;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.qparams.job.testutil.ObserverYaml.SYMMETRIC_WEIGHTS;
import static io.qparams.job.testutil.ObserverYaml.observers;
import static io.qparams.job.testutil.ObserverYaml.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same tests on each state backend the job offers ({@code --state-backend}): state must behave
 * alike.
 */
@ParameterizedClass(name = "--state-backend {0}")
@ValueSource(strings = {"hashmap", "rocksdb"})
class ObserveFunctionTest {
    @Parameter String backend;

    static final String CONFIG =
            observers(
                    SYMMETRIC_WEIGHTS,
                    rule("*", "MovingAverageMinMaxObserver", "averaging_constant: 0.25"));
    static final String ACT = "enc.out";
    static final String WEIGHT = "enc.weight";

    private final ObserverConfigSource configSource = ObserverConfigSource.fromYaml(CONFIG);
    private final ObserverConfig config = configSource.config();
    private KeyedOneInputStreamOperatorTestHarness<String, TensorEvent, QParamsOutput> harness;
    private long offset;

    @BeforeEach
    void open() throws Exception {
        harness = newHarness();
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private KeyedOneInputStreamOperatorTestHarness<String, TensorEvent, QParamsOutput> newHarness()
            throws Exception {
        return newHarness(null);
    }

    private KeyedOneInputStreamOperatorTestHarness<String, TensorEvent, QParamsOutput> newHarness(
            Duration stateTtl) throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, TensorEvent, QParamsOutput> h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new ObserveFunction(
                                                configSource,
                                                Duration.ofSeconds(60),
                                                IncompleteSteps.APPLY)
                                        .withStateTtl(stateTtl)),
                        event -> event.tensor,
                        Types.STRING);
        h.setStateBackend(stateBackend(backend));
        return h;
    }

    /** The backend {@code --state-backend} names (the job sets it through StateBackendOptions). */
    static StateBackend stateBackend(String name) {
        return switch (name) {
            case "hashmap" -> new HashMapStateBackend();
            case "rocksdb" -> new EmbeddedRocksDBStateBackend();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private TensorEvent batch(String tensor, BatchMinMax batch) {
        KafkaInput source =
                new KafkaInput(
                        tensor.getBytes(StandardCharsets.UTF_8),
                        null,
                        null,
                        "activations",
                        0,
                        offset++);
        return TensorEvent.batch(tensor, config.ruleIndexFor(tensor), batch, source);
    }

    private TensorEvent reset(String tensor) {
        return TensorEvent.reset(
                tensor,
                new KafkaInput(
                        tensor.getBytes(StandardCharsets.UTF_8), null, null, "control", 0, 0));
    }

    private static List<BatchMinMax> perTensorBatches() {
        List<BatchMinMax> batches = new ArrayList<>();
        batches.add(BatchMinMax.perTensor(-1.5f, 2.0f));
        batches.add(BatchMinMax.perTensor(-0.3f, 7.25f));
        batches.add(BatchMinMax.perTensor(-4.1f, 0.5f));
        batches.add(BatchMinMax.perTensor(0.1f, 0.2f));
        return batches;
    }

    /** Feeds batches to the harness and asserts each output against a replay through Observer. */
    private void feedAndAssert(
            KeyedOneInputStreamOperatorTestHarness<String, TensorEvent, QParamsOutput> h,
            String tensor,
            List<BatchMinMax> batches,
            ObserverState replay)
            throws Exception {
        Observer observer = config.observerFor(tensor);
        for (BatchMinMax b : batches) {
            int before = h.extractOutputValues().size();
            h.processElement(new StreamRecord<>(batch(tensor, b)));
            observer.update(replay, b);
            List<QParamsOutput> out = h.extractOutputValues();
            assertEquals(before + 1, out.size(), "one record per batch");
            JsonNode record = QParamsAssertions.parse(out.get(out.size() - 1).value);
            QParamsAssertions.assertRecordMatches(
                    record,
                    replay,
                    observer.calculateQParams(replay),
                    tensor + " batch " + replay.batches());
        }
    }

    @Test
    void batchesGiveTheObserversResults() throws Exception {
        feedAndAssert(harness, ACT, perTensorBatches(), config.observerFor(ACT).initialState());
        ObserverState weights = config.observerFor(WEIGHT).initialState();
        feedAndAssert(
                harness,
                WEIGHT,
                List.of(
                        BatchMinMax.perChannel(
                                new float[] {-1, -2, 0.5f}, new float[] {1, 3, 0.75f}),
                        BatchMinMax.perChannel(
                                new float[] {-3, -1, 0.25f}, new float[] {0.5f, 4, 1})),
                weights);
        assertTrue(
                harness.getSideOutput(DeadLetterTag.DEAD_LETTERS) == null
                        || harness.getSideOutput(DeadLetterTag.DEAD_LETTERS).isEmpty());
    }

    @Test
    void resetRestartsTheObserver() throws Exception {
        feedAndAssert(harness, ACT, perTensorBatches(), config.observerFor(ACT).initialState());
        harness.processElement(new StreamRecord<>(reset(ACT)));
        assertEquals(4, harness.extractOutputValues().size(), "a reset emits nothing");
        feedAndAssert(
                harness,
                ACT,
                perTensorBatches().subList(2, 4),
                config.observerFor(ACT).initialState());
        JsonNode last = QParamsAssertions.parse(harness.extractOutputValues().get(5).value);
        assertEquals(2, last.get("batches").asInt());
    }

    @Test
    void channelCountChangeGoesToTheDeadLettersAndLeavesTheStateAsItWas() throws Exception {
        ObserverState replay = config.observerFor(WEIGHT).initialState();
        feedAndAssert(
                harness,
                WEIGHT,
                List.of(BatchMinMax.perChannel(new float[] {-1, -2}, new float[] {1, 2})),
                replay);
        harness.processElement(
                new StreamRecord<>(
                        batch(
                                WEIGHT,
                                BatchMinMax.perChannel(
                                        new float[] {-1, -2, -3}, new float[] {1, 2, 3}))));
        assertEquals(1, harness.extractOutputValues().size(), "the refused batch emits no record");
        List<DeadLetter> dead = new ArrayList<>();
        harness.getSideOutput(DeadLetterTag.DEAD_LETTERS).forEach(r -> dead.add(r.getValue()));
        assertEquals(1, dead.size());
        DeadLetter letter = dead.get(0);
        assertTrue(letter.reason.contains("channel count"), letter.reason);
        assertEquals(WEIGHT, new String(letter.key, StandardCharsets.UTF_8));
        assertEquals(1, letter.sourceOffset);
        JsonNode stats = QParamsAssertions.parse(letter.value);
        assertEquals(3, stats.get("min").size(), "the refused batch, as JSON stats");
        assertEquals("application/json", letter.contentType);
        // The state is unchanged: the next 2-channel batch continues from batch 1.
        feedAndAssert(
                harness,
                WEIGHT,
                List.of(BatchMinMax.perChannel(new float[] {-5, 0}, new float[] {0, 9})),
                replay);
        assertEquals(2, replay.batches());
    }

    @Test
    void snapshotAndRestoreContinueIdentically() throws Exception {
        List<BatchMinMax> batches = perTensorBatches();
        ObserverState act = config.observerFor(ACT).initialState();
        ObserverState weight = config.observerFor(WEIGHT).initialState();
        feedAndAssert(harness, ACT, batches.subList(0, 2), act);
        feedAndAssert(
                harness,
                WEIGHT,
                List.of(BatchMinMax.perChannel(new float[] {-1}, new float[] {2})),
                weight);
        OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
        harness.close();

        harness = newHarness();
        harness.setup();
        harness.initializeState(snapshot);
        harness.open();
        feedAndAssert(harness, ACT, batches.subList(2, 4), act);
        feedAndAssert(
                harness,
                WEIGHT,
                List.of(BatchMinMax.perChannel(new float[] {-3}, new float[] {1})),
                weight);
        assertEquals(4, act.batches());
        assertEquals(2, weight.batches());
    }

    @Test
    void withAStateTtlATensorNotUpdatedForThatLongStartsAfresh() throws Exception {
        harness.close();
        harness = newHarness(Duration.ofMinutes(10));
        harness.open();
        List<BatchMinMax> batches = perTensorBatches();
        harness.setStateTtlProcessingTime(0);
        feedAndAssert(harness, ACT, batches.subList(0, 2), config.observerFor(ACT).initialState());
        harness.setStateTtlProcessingTime(Duration.ofMinutes(10).toMillis() - 1);
        harness.processElement(new StreamRecord<>(batch(ACT, batches.get(2))));
        JsonNode kept = QParamsAssertions.parse(harness.extractOutputValues().get(2).value);
        assertEquals(3, kept.get("batches").asInt(), "updated within the TTL: kept");
        // Each update restarts the TTL; 10 minutes without one and the tensor is forgotten.
        harness.setStateTtlProcessingTime(2 * Duration.ofMinutes(10).toMillis());
        feedAndAssert(harness, ACT, batches.subList(3, 4), config.observerFor(ACT).initialState());
        JsonNode fresh = QParamsAssertions.parse(harness.extractOutputValues().get(3).value);
        assertEquals(1, fresh.get("batches").asInt(), "forgotten: a fresh observer");
    }
}
