package io.qparams.job.functions;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.job.JobOptions.IncompleteSteps;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Waiting steps across a snapshot and restore, on each state backend: they and their timers come
 * back, and a step whose deadline passed while the job was away waits a fresh timeout for the
 * shards the restored sources re-read.
 */
@ParameterizedClass(name = "--state-backend {0}")
@ValueSource(strings = {"hashmap", "rocksdb"})
class DataParallelStepsRestoreTest extends StepsHarness {
    @Parameter String backend;

    @Override
    String backend() {
        return backend;
    }

    @Test
    void pendingStepsAndTheirTimersSurviveSnapshotAndRestore() throws Exception {
        open(IncompleteSteps.APPLY);
        harness.setProcessingTime(0);
        shard(ACT, 0, 3, 0, -1.0f, 1.0f);
        shard(ACT, 1, 3, 0, -4.0f, 1.0f);
        shard(ACT, 1, 3, 1, -4.0f, 1.0f);
        snapshotAndRestore(IncompleteSteps.APPLY);
        shard(ACT, 0, 3, 1, -2.0f, 2.0f);
        shard(ACT, 0, 3, 2, 0.0f, 8.0f);
        List<JsonNode> records = records();
        assertEquals(1, records.size(), "step 0 completes after the restore");
        Observer observer = config.observerFor(ACT);
        ObserverState replay = observer.initialState();
        assertStep(records.get(0), observer, replay, reduce(-1, 1, -2, 2, 0, 8));
        harness.setProcessingTime(TIMEOUT_MS);
        records = records();
        assertEquals(2, records.size(), "step 1's timer fired after the restore");
        assertStep(records.get(1), observer, replay, reduce(-4, 1));
        assertEquals(2, records.get(1).get("ranks").asInt());
    }

    @Test
    void aRestoredJobGivesAnOverdueStepAFreshTimeoutForShardsStillInKafka() throws Exception {
        open(IncompleteSteps.APPLY);
        harness.setProcessingTime(0);
        shard(ACT, 0, 2, 0, -1.0f, 1.0f);
        // The job comes back long after the step's deadline: its timer fires at once.
        snapshotAndRestore(IncompleteSteps.APPLY);
        long back = 3 * TIMEOUT_MS;
        harness.setProcessingTime(back);
        assertEquals(0, records().size(), "not applied without rank 1: it may be unread in Kafka");
        shard(ACT, 0, 2, 1, 4.0f); // re-read from Kafka after the restore
        List<JsonNode> records = records();
        assertEquals(1, records.size());
        assertEquals(
                2, records.get(0).get("ranks").asInt(), "the step as a failure-free run has it");

        // The fresh timeout still ends a step whose rank never comes.
        shard(ACT, 1, 2, 0, 2.0f);
        harness.setProcessingTime(back + TIMEOUT_MS);
        assertEquals(2, records().size());
        assertEquals(1, records().get(1).get("ranks").asInt());
    }

    @Test
    void aStepRestoredJustBeforeItsDeadlineAlsoGetsAFullTimeout() throws Exception {
        open(IncompleteSteps.APPLY);
        harness.setProcessingTime(0);
        shard(ACT, 0, 2, 0, -1.0f, 1.0f);
        snapshotAndRestore(IncompleteSteps.APPLY);
        harness.setProcessingTime(TIMEOUT_MS - 100);
        shard(WEIGHT, 0, 1, 0, BatchMinMax.perChannel(new float[] {-1}, new float[] {1}));
        assertEquals(1, records().size(), "the restored instance is at work");
        harness.setProcessingTime(TIMEOUT_MS); // the step's old deadline, 100 ms after the restore
        assertEquals(
                1, records().size(), "the restored step waits a full timeout from the restore");
        shard(ACT, 0, 2, 1, 4.0f);
        assertEquals(2, records().size());
        assertEquals(2, records().get(1).get("ranks").asInt());
    }
}
