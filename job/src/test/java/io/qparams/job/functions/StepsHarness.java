package io.qparams.job.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.InstantiationUtil;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.kafka.QParamsOutput;
import io.qparams.connectors.records.StepHeaders;
import io.qparams.job.JobOptions.IncompleteSteps;
import io.qparams.job.ObserverConfigSource;
import io.qparams.job.records.TensorEvent;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import org.junit.jupiter.api.AfterEach;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The observer with data-parallel steps under a test harness whose processing time the test drives,
 * and the helpers its tests share: shards, the oracle over the concatenated values, the records and
 * dead letters out.
 */
abstract class StepsHarness {
    static final String ACT = ObserveFunctionTest.ACT;
    static final String WEIGHT = ObserveFunctionTest.WEIGHT;
    static final long TIMEOUT_MS = 60_000;

    final ObserverConfigSource configSource =
            ObserverConfigSource.fromYaml(ObserveFunctionTest.CONFIG);
    final ObserverConfig config = configSource.config();
    KeyedOneInputStreamOperatorTestHarness<String, TensorEvent, QParamsOutput> harness;
    private long offset;

    /** The state backend under test: hashmap or rocksdb. */
    abstract String backend();

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    void open(IncompleteSteps incomplete) throws Exception {
        harness = newHarness(incomplete);
        harness.open();
    }

    KeyedOneInputStreamOperatorTestHarness<String, TensorEvent, QParamsOutput> newHarness(
            IncompleteSteps incomplete) throws Exception {
        var h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                // Serialized and read back, as Flink ships a function to each
                                // attempt of its task: transient fields start at their defaults.
                                InstantiationUtil.clone(
                                        new ObserveFunction(
                                                configSource,
                                                Duration.ofMillis(TIMEOUT_MS),
                                                incomplete))),
                        (TensorEvent event) -> event.tensor,
                        Types.STRING);
        h.setStateBackend(ObserveFunctionTest.stateBackend(backend()));
        return h;
    }

    /** A snapshot of the harness, then a new harness restored from it and opened (a failover). */
    void snapshotAndRestore(IncompleteSteps incomplete) throws Exception {
        OperatorSubtaskState snapshot = harness.snapshot(1L, 1L);
        harness.close();
        harness = newHarness(incomplete);
        harness.setup();
        harness.initializeState(snapshot);
        harness.open();
    }

    /** One rank's shard of per-tensor values (null: an empty shard). */
    void shard(String tensor, long step, int worldSize, int rank, float... values)
            throws Exception {
        shard(tensor, step, worldSize, rank, values == null ? null : reduce(values));
    }

    void shard(String tensor, long step, int worldSize, int rank, BatchMinMax batch)
            throws Exception {
        KafkaInput source = source(tensor);
        var headers = new StepHeaders.Step(step, worldSize, rank);
        harness.processElement(
                new StreamRecord<>(
                        TensorEvent.shard(
                                tensor, config.ruleIndexFor(tensor), batch, headers, source)));
    }

    KafkaInput source(String tensor) {
        return new KafkaInput(
                tensor.getBytes(StandardCharsets.UTF_8), null, null, "activations", 0, offset++);
    }

    /** min/max by a plain loop: the oracle for the merge of the shards. */
    static BatchMinMax reduce(float... values) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return BatchMinMax.perTensor(min, max);
    }

    List<JsonNode> records() {
        List<JsonNode> records = new ArrayList<>();
        for (QParamsOutput out : harness.extractOutputValues()) {
            records.add(QParamsAssertions.parse(out.value));
        }
        return records;
    }

    List<DeadLetter> deadLetters() {
        List<DeadLetter> dead = new ArrayList<>();
        var side = harness.getSideOutput(DeadLetterTag.DEAD_LETTERS);
        if (side != null) {
            side.forEach(r -> dead.add(r.getValue()));
        }
        return dead;
    }

    /** The record equals the observer's state after one update with the concatenated values. */
    static void assertStep(
            JsonNode record, Observer observer, ObserverState replay, BatchMinMax global)
            throws Exception {
        observer.update(replay, global);
        QParamsAssertions.assertRecordMatches(
                record, replay, observer.calculateQParams(replay), "step record");
    }
}
