package io.qparams.job.functions;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.job.JobOptions.IncompleteSteps;
import io.qparams.job.records.TensorEvent;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverState;
import io.qparams.observers.ValueCounts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel steps in the observer (CONTRACT section 7), on each state backend: the ranks of a
 * step make one update equal to the observer's update over the concatenated shards, steps go in
 * increasing order, and timeouts, late ranks, duplicates and mixing behave as documented.
 */
@ParameterizedClass(name = "--state-backend {0}")
@ValueSource(strings = {"hashmap", "rocksdb"})
class DataParallelStepsTest extends StepsHarness {
    @Parameter String backend;

    @Override
    String backend() {
        return backend;
    }

    @Test
    void theRanksOfAStepMakeOneUpdateOverTheirConcatenation() throws Exception {
        open(IncompleteSteps.APPLY);
        shard(ACT, 0, 3, 2, 0.5f, 4.0f);
        shard(ACT, 0, 3, 0, -1.0f, 2.0f);
        assertEquals(0, records().size(), "the step waits for its third rank");
        shard(ACT, 0, 3, 1, -3.25f, 1.0f);
        List<JsonNode> records = records();
        assertEquals(1, records.size());
        Observer observer = config.observerFor(ACT);
        ObserverState replay = observer.initialState();
        assertStep(records.get(0), observer, replay, reduce(0.5f, 4.0f, -1.0f, 2.0f, -3.25f, 1.0f));
        assertEquals(0, records.get(0).get("step").asLong());
        assertEquals(3, records.get(0).get("world_size").asInt());
        assertEquals(3, records.get(0).get("ranks").asInt());
        assertEquals(1, records.get(0).get("batches").asInt());
        assertEquals(2, records.get(0).get("source").get("offset").asLong(), "the last shard");
    }

    @Test
    void perChannelShardsMergeChannelByChannel() throws Exception {
        open(IncompleteSteps.APPLY);
        BatchMinMax a = BatchMinMax.perChannel(new float[] {-1, 0.5f}, new float[] {1, 2});
        BatchMinMax b = BatchMinMax.perChannel(new float[] {-0.5f, -4}, new float[] {3, 0.75f});
        shard(WEIGHT, 7, 2, 1, b);
        shard(WEIGHT, 7, 2, 0, a);
        Observer observer = config.observerFor(WEIGHT);
        ObserverState replay = observer.initialState();
        BatchMinMax global = BatchMinMax.perChannel(new float[] {-1, -4}, new float[] {3, 2});
        assertStep(records().get(0), observer, replay, global);
    }

    @Test
    void aLaterStepWaitsBehindAnIncompleteEarlierOneAndStepsGoInOrder() throws Exception {
        open(IncompleteSteps.APPLY);
        harness.setProcessingTime(1_000);
        shard(ACT, 0, 2, 0, -1.0f, 1.0f);
        shard(ACT, 1, 2, 0, -2.0f, 2.0f);
        shard(ACT, 1, 2, 1, -0.5f, 0.5f);
        assertEquals(0, records().size(), "step 1 is complete but waits behind step 0");
        shard(ACT, 0, 2, 1, 0.25f, 3.0f);
        List<JsonNode> records = records();
        assertEquals(2, records.size());
        Observer observer = config.observerFor(ACT);
        ObserverState replay = observer.initialState();
        assertStep(records.get(0), observer, replay, reduce(-1.0f, 1.0f, 0.25f, 3.0f));
        assertStep(records.get(1), observer, replay, reduce(-2.0f, 2.0f, -0.5f, 0.5f));
        assertEquals(0, records.get(0).get("step").asLong());
        assertEquals(1, records.get(1).get("step").asLong());
    }

    @Test
    void anIncompleteStepIsAppliedAtItsTimeoutAndALateRankIsRefused() throws Exception {
        open(IncompleteSteps.APPLY);
        harness.setProcessingTime(1_000);
        shard(ACT, 4, 3, 0, -1.0f, 1.0f);
        shard(ACT, 4, 3, 2, -2.0f, 0.5f);
        harness.setProcessingTime(1_000 + TIMEOUT_MS - 1);
        assertEquals(0, records().size(), "before the timeout the step waits");
        harness.setProcessingTime(1_000 + TIMEOUT_MS);
        List<JsonNode> records = records();
        assertEquals(1, records.size(), "applied at the timeout with the ranks that came");
        Observer observer = config.observerFor(ACT);
        assertStep(records.get(0), observer, observer.initialState(), reduce(-1, 1, -2, 0.5f));
        assertEquals(2, records.get(0).get("ranks").asInt());
        assertEquals(3, records.get(0).get("world_size").asInt());

        shard(ACT, 4, 3, 1, -9.0f, 9.0f);
        assertEquals(1, records().size(), "the late rank changes nothing");
        DeadLetter late = deadLetters().get(0);
        assertEquals("rank 1 of step 4 arrived after step 4 was applied", late.reason);
        assertEquals("4", late.step);
        assertEquals("1", late.rank);
        assertEquals("3", late.worldSize);
    }

    @Test
    void withIncompleteStepsDlqATimedOutStepGoesToTheDeadLettersWhole() throws Exception {
        open(IncompleteSteps.DLQ);
        shard(ACT, 0, 4, 0, -1.0f, 1.0f);
        shard(ACT, 0, 4, 3, -2.0f, 0.5f);
        shard(ACT, 1, 4, 0, -1.0f, 1.0f);
        shard(ACT, 1, 4, 1, -1.0f, 1.0f);
        shard(ACT, 1, 4, 2, -1.0f, 1.0f);
        shard(ACT, 1, 4, 3, -1.0f, 1.0f);
        harness.setProcessingTime(TIMEOUT_MS);
        List<DeadLetter> dead = deadLetters();
        assertEquals(1, dead.size());
        assertEquals(
                "step 0: 2 of 4 ranks arrived within the step timeout of 60000 ms (missing: 1, 2)",
                dead.get(0).reason);
        JsonNode stats = QParamsAssertions.parse(dead.get(0).value);
        assertEquals(-2.0, stats.get("min").asDouble(), "the merged shards, as JSON stats");
        assertEquals("0", dead.get(0).step);
        assertNull(dead.get(0).rank, "a whole step names no rank");
        List<JsonNode> records = records();
        assertEquals(1, records.size(), "step 1, complete, goes once step 0 is resolved");
        assertEquals(1, records.get(0).get("step").asLong());
        assertEquals(1, records.get(0).get("batches").asInt(), "step 0 changed nothing");
    }

    @Test
    void aRepeatedRankIsDroppedAndEmptyShardsCount() throws Exception {
        open(IncompleteSteps.APPLY);
        shard(ACT, 0, 3, 0, -1.0f, 1.0f);
        shard(ACT, 0, 3, 0, -100.0f, 100.0f); // a producer's retry of rank 0 with other values
        shard(ACT, 0, 3, 1, (float[]) null); // an empty shard
        assertEquals(0, records().size());
        shard(ACT, 0, 3, 2, 0.5f);
        Observer observer = config.observerFor(ACT);
        assertStep(records().get(0), observer, observer.initialState(), reduce(-1, 1, 0.5f));
        assertEquals(3, records().get(0).get("ranks").asInt());
        assertEquals(0, deadLetters().size(), "a duplicate is dropped, not a dead letter");

        // A step of empty shards only is an empty global batch: no update, no record.
        shard(ACT, 1, 2, 0, (float[]) null);
        shard(ACT, 1, 2, 1, (float[]) null);
        assertEquals(1, records().size());
        shard(ACT, 1, 2, 0, 1.0f);
        assertTrue(deadLetters().get(0).reason.contains("after step 1 was applied"));
    }

    /**
     * The step's record counts what all its shards held (CONTRACT section 3: values, nonfinite,
     * zeros), across a failover in the middle of the step (the pending step's state keeps the
     * counts); a shard of pre-reduced stats, which carry no counts, leaves them out.
     */
    @Test
    void aStepsRecordCountsTheValuesOfAllItsShards() throws Exception {
        open(IncompleteSteps.APPLY);
        shard(ACT, 0, 3, 0, reduce(-1, 0, 2).withCounts(new ValueCounts(3, 0, 1)));
        shard(ACT, 0, 3, 1, (float[]) null); // an empty shard: it held nothing
        snapshotAndRestore(IncompleteSteps.APPLY);
        shard(ACT, 0, 3, 2, reduce(0, 0.5f).withCounts(new ValueCounts(6, 4, 1)));
        JsonNode record = records().get(0);
        assertEquals(9, record.get("values").asLong());
        assertEquals(4, record.get("nonfinite").asLong());
        assertEquals(2, record.get("zeros").asLong());

        shard(ACT, 1, 2, 0, reduce(1, 2).withCounts(new ValueCounts(2, 0, 0)));
        shard(ACT, 1, 2, 1, reduce(3, 4)); // stats: no counts
        JsonNode second = records().get(1);
        assertEquals(1, second.get("step").asLong());
        assertFalse(second.has("values") || second.has("nonfinite") || second.has("zeros"));
    }

    @Test
    void mixingShardsAndPlainBatchesIsRefusedUntilAReset() throws Exception {
        open(IncompleteSteps.APPLY);
        KafkaInput plain = source(ACT);
        harness.processElement(
                new StreamRecord<>(
                        TensorEvent.batch(ACT, config.ruleIndexFor(ACT), reduce(1), plain)));
        shard(ACT, 0, 1, 0, 2.0f);
        assertEquals(1, records().size());
        assertEquals(
                "tensor 'enc.out' takes records without qparams.step headers: a data-parallel"
                        + " shard cannot join them (reset the tensor first)",
                deadLetters().get(0).reason);

        harness.processElement(new StreamRecord<>(TensorEvent.reset(ACT, source(ACT))));
        shard(ACT, 0, 2, 0, 2.0f);
        harness.processElement(
                new StreamRecord<>(
                        TensorEvent.batch(ACT, config.ruleIndexFor(ACT), reduce(3), source(ACT))));
        assertTrue(deadLetters().get(1).reason.contains("takes data-parallel steps"));
        harness.processElement(new StreamRecord<>(TensorEvent.reset(ACT, source(ACT))));
        DeadLetter dropped = deadLetters().get(2);
        assertEquals("step 0 dropped by a reset", dropped.reason);
        shard(ACT, 0, 1, 0, 5.0f); // after the reset, step 0 starts afresh
        assertEquals(2, records().size());
        assertEquals(1, records().get(1).get("batches").asInt());
    }

    @Test
    void shardsThatDoNotFitTogetherRefuseTheirStep() throws Exception {
        open(IncompleteSteps.APPLY);
        shard(WEIGHT, 0, 2, 0, BatchMinMax.perChannel(new float[] {-1, 0}, new float[] {1, 2}));
        shard(WEIGHT, 0, 3, 1, BatchMinMax.perChannel(new float[] {-1, 0}, new float[] {1, 2}));
        assertEquals(
                "world size 3 differs from the 2 of step 0's other ranks",
                deadLetters().get(0).reason);
        shard(WEIGHT, 0, 2, 1, BatchMinMax.perChannel(new float[] {-1}, new float[] {1}));
        assertEquals(0, records().size());
        assertEquals(
                "step 0 not applied: rank 1's shard has 1 channels, the step's earlier shards 2"
                        + " channels",
                deadLetters().get(1).reason);
    }
}
