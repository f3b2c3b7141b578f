package io.qparams.job.testutil;

import io.qparams.connectors.BatchPipeline;
import io.qparams.connectors.records.RecordSource;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Drift;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;

import java.util.HashMap;
import java.util.Map;

/**
 * The qparams records a failure-free job must emit, computed outside Flink: each batch through the
 * job's {@link BatchPipeline}, in log order, each record encoded with its source. What the job
 * emits must equal these bytes exactly: whatever Flink does (the keyBy, restarts, restores), the
 * records are a pure function of the input log.
 */
public final class Replay {
    private final BatchPipeline pipeline;
    private final Map<String, ObserverState> states = new HashMap<>();
    private final Map<String, Drift.MemoryHistory> histories = new HashMap<>();
    private byte[] driftEvent;

    public Replay(ObserverConfig config) {
        this.pipeline = new BatchPipeline(config, Integer.MAX_VALUE - 8);
    }

    /**
     * Applies one input record of {@code tensor}.
     *
     * @return the record the job emits for it, or null when it emits none (an empty tensor)
     * @throws InvalidBatchException when the job refuses the record (it goes to the DLQ, the state
     *     stays)
     */
    public byte[] apply(
            String tensor,
            byte[] value,
            String contentType,
            String topic,
            int partition,
            long offset)
            throws InvalidBatchException {
        int rule = pipeline.ruleFor(tensor);
        BatchMinMax batch = pipeline.decode(rule, value, contentType);
        if (batch == null) {
            return null;
        }
        ObserverState state =
                states.computeIfAbsent(tensor, t -> pipeline.initialState(rule)).copy();
        Drift.MemoryHistory history =
                histories.computeIfAbsent(tensor, t -> new Drift.MemoryHistory()).copy();
        byte[] record =
                pipeline.observe(
                        tensor,
                        rule,
                        state,
                        batch,
                        RecordSource.kafka(topic, partition, offset),
                        null,
                        history);
        states.put(tensor, state);
        histories.put(tensor, history);
        driftEvent = pipeline.driftEvent();
        return record;
    }

    /** The drift event of the last record {@link #apply} returned, or null. */
    public byte[] driftEvent() {
        return driftEvent;
    }

    /** A reset from the control topic. */
    public void reset(String tensor) {
        states.remove(tensor);
        histories.remove(tensor);
    }
}
