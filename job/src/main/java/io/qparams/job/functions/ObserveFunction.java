package io.qparams.job.functions;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import io.qparams.connectors.BatchPipeline;
import io.qparams.connectors.kafka.QParamsOutput;
import io.qparams.connectors.records.MergedStep;
import io.qparams.connectors.records.RecordSource;
import io.qparams.job.JobOptions.IncompleteSteps;
import io.qparams.job.ObserverConfigSource;
import io.qparams.job.metrics.JobMetrics;
import io.qparams.job.metrics.JobMetrics.Refusal;
import io.qparams.job.records.PendingStep;
import io.qparams.job.records.TensorEvent;
import io.qparams.job.serializers.ObserverStateSerializer;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.ObserverState;

import java.time.Duration;

/**
 * One PyTorch-exact observer per tensor (the key), the observe-and-encode half of the {@link
 * BatchPipeline}. A batch updates the tensor's state and emits one qparams record; a reset clears
 * the state, so the next batch starts afresh at {@code batches = 1}. A batch the observer refuses
 * (channel count changed, wrong family) leaves the state as it was and goes to the dead letters as
 * JSON stats, the only form of it that reached this operator.
 *
 * <p>Data-parallel shards (CONTRACT section 7) wait in {@link DataParallelSteps} until every rank
 * of their step has arrived, or the step timeout (processing time, a timer) has passed; then the
 * step's merged shards are ONE update and one record, steps in increasing order. A tensor a drift
 * rule watches keeps its recent scales in {@link DriftHistoryState}; the first record of each drift
 * episode also sends its event to {@link DriftEventTag#DRIFT_EVENTS}.
 */
public final class ObserveFunction
        extends KeyedProcessFunction<String, TensorEvent, QParamsOutput> {
    private static final long serialVersionUID = 1L;

    /** The state's name is part of every savepoint: never rename it. */
    public static final String STATE_NAME = "observer-state";

    private final ObserverConfigSource configSource;
    private final Duration stepTimeout;
    private final IncompleteSteps incompleteSteps;
    private Duration stateTtl;
    private transient BatchPipeline pipeline;
    private transient ValueState<ObserverState> observerState;
    private transient DataParallelSteps steps;
    private transient DriftHistoryState drift;
    private transient JobMetrics metrics;
    private transient ObserverDeadLetters deadLetters;

    /**
     * Processing time of this instance's first element or timer: about when it started, or was
     * restored from a checkpoint. A step waiting in the checkpoint gets a full step timeout from
     * then (see {@link #onTimer}).
     */
    private transient long activeSince;

    /**
     * @param stepTimeout how long a data-parallel step waits for its missing ranks
     * @param incompleteSteps what becomes of a step that timed out
     */
    public ObserveFunction(
            ObserverConfigSource configSource,
            Duration stepTimeout,
            IncompleteSteps incompleteSteps) {
        this.configSource = configSource;
        this.stepTimeout = stepTimeout;
        this.incompleteSteps = incompleteSteps;
    }

    /**
     * Forgets a tensor not updated for this long ({@code --state-ttl}): its observer, waiting steps
     * and step progress, as a reset would. Processing time; null (the default) keeps every tensor.
     */
    public ObserveFunction withStateTtl(Duration ttl) {
        this.stateTtl = ttl;
        return this;
    }

    /** The TTL of every state of a tensor, or null for none. */
    private StateTtlConfig ttlConfig() {
        return stateTtl == null
                ? null
                : StateTtlConfig.newBuilder(stateTtl)
                        .updateTtlOnCreateAndWrite()
                        .neverReturnExpired()
                        .build();
    }

    @Override
    public void open(OpenContext openContext) {
        pipeline = new BatchPipeline(configSource.config());
        ValueStateDescriptor<ObserverState> observer =
                new ValueStateDescriptor<>(STATE_NAME, ObserverStateSerializer.INSTANCE);
        StateTtlConfig ttl = ttlConfig();
        if (ttl != null) {
            observer.enableTimeToLive(ttl);
        }
        observerState = getRuntimeContext().getState(observer);
        steps = new DataParallelSteps(getRuntimeContext(), ttl);
        drift = new DriftHistoryState(getRuntimeContext(), ttl);
        metrics = JobMetrics.observe(getRuntimeContext().getMetricGroup());
        deadLetters = new ObserverDeadLetters(metrics);
        // Here, not in the field's initializer: each attempt deserializes the function, and
        // deserialization leaves a transient field at 0 without running its initializer.
        activeSince = Long.MIN_VALUE;
    }

    @Override
    public void processElement(TensorEvent event, Context ctx, Collector<QParamsOutput> out)
            throws Exception {
        markActive(ctx);
        if (event.reset) {
            for (PendingStep dropped : steps.clear()) {
                deadLetters.refuseStep(
                        ctx, dropped, Refusal.STEP, "step " + dropped.step + " dropped by a reset");
            }
            observerState.clear();
            drift.clear();
            metrics.reset();
            return;
        }
        if (event.isShard()) {
            shard(event, ctx, out);
            return;
        }
        if (steps.active()) {
            deadLetters.refuseMixing(ctx, event);
            return;
        }
        ObserverState state = observerState.value();
        if (state == null) {
            state = pipeline.initialState(event.rule);
        }
        BatchMinMax batch = event.toBatch();
        RecordSource source =
                RecordSource.kafka(event.sourceTopic, event.sourcePartition, event.sourceOffset);
        try {
            out.collect(observe(ctx, event.tensor, event.rule, state, batch, source, null));
        } catch (InvalidBatchException e) {
            deadLetters.refuse(ctx, event, Refusal.OBSERVER, e.getMessage());
        }
    }

    private void shard(TensorEvent shard, Context ctx, Collector<QParamsOutput> out)
            throws Exception {
        if (!steps.active() && observerState.value() != null) {
            deadLetters.refuseMixing(ctx, shard);
            return;
        }
        long now = ctx.timerService().currentProcessingTime();
        PendingStep step = steps.pendingStep(shard.step);
        switch (steps.arrive(shard, now + stepTimeout.toMillis())) {
            case NEW_STEP:
                ctx.timerService().registerProcessingTimeTimer(now + stepTimeout.toMillis());
                break;
            case JOINED:
            case DUPLICATE: // a producer's retry: the step has this rank's shard already
                break;
            case LATE:
                deadLetters.refuse(
                        ctx,
                        shard,
                        Refusal.STEP,
                        "rank "
                                + shard.rank
                                + " of step "
                                + shard.step
                                + " arrived after step "
                                + steps.lastApplied()
                                + " was applied");
                return;
            case OTHER_WORLD_SIZE:
                deadLetters.refuse(
                        ctx,
                        shard,
                        Refusal.STEP,
                        "world size "
                                + shard.worldSize
                                + " differs from the "
                                + step.worldSize
                                + " of step "
                                + shard.step
                                + "'s other ranks");
                return;
        }
        applyDue(ctx, Long.MIN_VALUE, out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<QParamsOutput> out)
            throws Exception {
        // A step restored from a checkpoint has a deadline set before the failure, and Flink fires
        // the timers that passed meanwhile as soon as it is restored: before the sources have
        // re-read the shards that came after the checkpoint. Such a step gets a full timeout from
        // the restore instead, as a failure-free run would have waited for those shards.
        long earliest = markActive(ctx) + stepTimeout.toMillis();
        if (timestamp < earliest) {
            if (steps.postponeOverdue(timestamp, earliest)) {
                ctx.timerService().registerProcessingTimeTimer(earliest);
            }
            return;
        }
        applyDue(ctx, timestamp, out);
    }

    /** Returns {@link #activeSince}, taking the current processing time the first time. */
    private long markActive(Context ctx) {
        if (activeSince == Long.MIN_VALUE) {
            activeSince = ctx.timerService().currentProcessingTime();
        }
        return activeSince;
    }

    /**
     * Applies (or refuses) the steps that are due, in increasing order.
     *
     * @param timeUp see {@link DataParallelSteps#takeDue}
     */
    private void applyDue(Context ctx, long timeUp, Collector<QParamsOutput> out) throws Exception {
        for (PendingStep step : steps.takeDue(timeUp)) {
            if (step.refusal() != null) {
                deadLetters.refuseStep(
                        ctx,
                        step,
                        Refusal.STEP,
                        "step " + step.step + " not applied: " + step.refusal());
            } else if (!step.isComplete() && incompleteSteps == IncompleteSteps.DLQ) {
                deadLetters.refuseStep(
                        ctx,
                        step,
                        Refusal.STEP,
                        "step "
                                + step.step
                                + ": "
                                + step.ranks()
                                + " of "
                                + step.worldSize
                                + " ranks arrived within the step timeout of "
                                + stepTimeout.toMillis()
                                + " ms (missing: "
                                + step.missingRanks()
                                + ")");
            } else {
                applyStep(ctx, step, out);
            }
        }
    }

    private void applyStep(Context ctx, PendingStep step, Collector<QParamsOutput> out)
            throws Exception {
        BatchMinMax batch = step.batch();
        if (batch == null) {
            return; // every shard was empty: an empty global batch changes nothing, as in torch
        }
        String tensor = ctx.getCurrentKey();
        ObserverState state = observerState.value();
        if (state == null) {
            state = pipeline.initialState(step.rule);
        }
        RecordSource source =
                RecordSource.kafka(step.sourceTopic(), step.sourcePartition(), step.sourceOffset());
        MergedStep merged = new MergedStep(step.step, step.worldSize, step.ranks());
        try {
            out.collect(observe(ctx, tensor, step.rule, state, batch, source, merged));
        } catch (InvalidBatchException e) {
            deadLetters.refuseStep(
                    ctx,
                    step,
                    Refusal.OBSERVER,
                    "step " + step.step + " not applied: " + e.getMessage());
        }
    }

    /**
     * Applies one batch to the state, stores it, and returns the record; the first record of a
     * drift episode also sends its event.
     */
    private QParamsOutput observe(
            Context ctx,
            String tensor,
            int rule,
            ObserverState state,
            BatchMinMax batch,
            RecordSource source,
            MergedStep merged)
            throws Exception {
        byte[] record = pipeline.observe(tensor, rule, state, batch, source, merged, drift);
        observerState.update(state);
        metrics.batchApplied();
        byte[] event = pipeline.driftEvent();
        if (event != null) {
            ctx.output(DriftEventTag.DRIFT_EVENTS, new QParamsOutput(tensor, event));
            metrics.driftEvent();
        }
        return new QParamsOutput(tensor, record);
    }
}
