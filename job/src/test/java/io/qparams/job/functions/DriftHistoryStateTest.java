package io.qparams.job.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

import io.qparams.connectors.BatchPipeline;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.kafka.QParamsOutput;
import io.qparams.connectors.records.RecordSource;
import io.qparams.job.JobOptions.IncompleteSteps;
import io.qparams.job.ObserverConfigSource;
import io.qparams.job.records.TensorEvent;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Drift;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.qparams.job.testutil.ObserverYaml.observers;
import static io.qparams.job.testutil.ObserverYaml.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drift in the observe operator, on each state backend: its records and its events side output
 * equal, byte for byte, what the pipeline gives with a history in memory, across a reset (which
 * forgets the history) and a snapshot and restore (which keeps it).
 */
@ParameterizedClass(name = "--state-backend {0}")
@ValueSource(strings = {"hashmap", "rocksdb"})
class DriftHistoryStateTest {
    @Parameter String backend;

    static final String CONFIG =
            observers(
                            rule("*.weight", "PerChannelMinMaxObserver", "ch_axis: 0"),
                            rule("*", "MinMaxObserver"))
                    + "drift:\n"
                    + "  - {match: \"*\", window: 3, threshold: 0.2}\n";
    static final String ACT = "enc.out";
    static final String WEIGHT = "enc.weight";

    private final ObserverConfigSource configSource = ObserverConfigSource.fromYaml(CONFIG);
    private final ObserverConfig config = configSource.config();
    private KeyedOneInputStreamOperatorTestHarness<String, TensorEvent, QParamsOutput> harness;
    private long offset;

    /** The reference: the pipeline with each tensor's state and history in memory. */
    private final BatchPipeline pipeline = new BatchPipeline(config);

    private final Map<String, ObserverState> states = new HashMap<>();
    private final Map<String, Drift.MemoryHistory> histories = new HashMap<>();
    private final List<String> expectedRecords = new ArrayList<>();
    private final List<String> expectedEvents = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private void openHarness(OperatorSubtaskState restore) throws Exception {
        harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new ObserveFunction(
                                        configSource,
                                        Duration.ofSeconds(60),
                                        IncompleteSteps.APPLY)),
                        event -> event.tensor,
                        Types.STRING);
        harness.setStateBackend(ObserveFunctionTest.stateBackend(backend));
        if (restore != null) {
            harness.setup();
            harness.initializeState(restore);
        }
        harness.open();
    }

    private void batch(String tensor, BatchMinMax batch) throws Exception {
        long o = offset++;
        KafkaInput source =
                new KafkaInput(tensor.getBytes(StandardCharsets.UTF_8), null, null, "in", 0, o);
        harness.processElement(
                new StreamRecord<>(
                        TensorEvent.batch(tensor, config.ruleIndexFor(tensor), batch, source)));
        int rule = pipeline.ruleFor(tensor);
        byte[] record =
                pipeline.observe(
                        tensor,
                        rule,
                        states.computeIfAbsent(tensor, t -> pipeline.initialState(rule)),
                        batch,
                        RecordSource.kafka("in", 0, o),
                        null,
                        histories.computeIfAbsent(tensor, t -> new Drift.MemoryHistory()));
        expectedRecords.add(new String(record, StandardCharsets.UTF_8));
        if (pipeline.driftEvent() != null) {
            expectedEvents.add(new String(pipeline.driftEvent(), StandardCharsets.UTF_8));
        }
    }

    private void reset(String tensor) throws Exception {
        harness.processElement(
                new StreamRecord<>(
                        TensorEvent.reset(
                                tensor,
                                new KafkaInput(
                                        tensor.getBytes(StandardCharsets.UTF_8),
                                        null,
                                        null,
                                        "control",
                                        0,
                                        0))));
        states.remove(tensor);
        histories.remove(tensor);
    }

    private final List<String> records = new ArrayList<>();
    private final List<String> events = new ArrayList<>();

    /** Moves what the harness emitted so far into {@link #records} and {@link #events}. */
    private void collect() {
        harness.extractOutputValues()
                .forEach(r -> records.add(new String(r.value, StandardCharsets.UTF_8)));
        harness.getOutput().clear();
        var side = harness.getSideOutput(DriftEventTag.DRIFT_EVENTS);
        if (side != null) {
            side.forEach(r -> events.add(new String(r.getValue().value, StandardCharsets.UTF_8)));
            side.clear();
        }
    }

    private static BatchMinMax upTo(float max) {
        return BatchMinMax.perTensor(-max / 2, max);
    }

    @Test
    void recordsAndEventsAreThePipelinesAcrossResetsAndRestores() throws Exception {
        openHarness(null);
        float[] maxima = {1, 1.1f, 1.2f, 2, 2.1f, 2.2f, 2.3f, 4, 4.2f, 4.4f};
        for (int i = 0; i < 6; i++) {
            batch(ACT, upTo(maxima[i]));
            batch(WEIGHT, BatchMinMax.perChannel(new float[2], new float[] {1, maxima[i]}));
        }
        collect();
        OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
        harness.close();
        openHarness(snapshot);
        for (int i = 6; i < maxima.length; i++) {
            batch(ACT, upTo(maxima[i]));
            batch(WEIGHT, BatchMinMax.perChannel(new float[2], new float[] {1, maxima[i]}));
        }
        reset(ACT);
        for (float max : new float[] {1, 5, 5, 9, 20}) {
            batch(ACT, upTo(max));
        }
        collect();
        assertEquals(expectedRecords, records);
        assertEquals(expectedEvents, events);
        assertTrue(expectedEvents.size() >= 3, "the case has episodes: " + expectedEvents);
        assertTrue(
                records.get(records.size() - 2).contains("\"batches\":4,")
                        && records.get(records.size() - 2).contains("\"drift\":"),
                "after the reset, batch 4 is judged against batch 1 of the fresh history");
        assertTrue(
                !records.get(records.size() - 3).contains("\"drift\""),
                "and batch 3 after the reset against nothing: " + records.get(records.size() - 3));
    }
}
