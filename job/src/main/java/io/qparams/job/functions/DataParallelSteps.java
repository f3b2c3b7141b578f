package io.qparams.job.functions;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;

import io.qparams.job.records.PendingStep;
import io.qparams.job.records.TensorEvent;
import io.qparams.job.serializers.PendingStepSerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The data-parallel steps of the current tensor (the key), in keyed state: the steps whose ranks
 * are still arriving, and the last step applied. Steps are released strictly in increasing order:
 * the lowest pending step goes once all its ranks have arrived or its deadline has passed, and a
 * later step waits behind it. A tensor that has step state takes only shards (records with step
 * headers) until a reset.
 */
final class DataParallelSteps {
    /** The states' names are part of every savepoint: never rename them. */
    static final String PENDING_STATE_NAME = "pending-steps";

    static final String LAST_APPLIED_STATE_NAME = "last-applied-step";

    /** What became of a shard that {@link #arrive} was given. */
    enum Arrival {
        /** It opened a new step: a timer for the step's deadline is due. */
        NEW_STEP,
        /** It joined a step that other ranks had opened. */
        JOINED,
        /** Its rank had arrived for this step before (a producer's retry): dropped. */
        DUPLICATE,
        /** Its step is at or below the last step applied: too late to join. */
        LATE,
        /** Its world size is not the one the step's other ranks sent. */
        OTHER_WORLD_SIZE
    }

    private final MapState<Long, PendingStep> pending;

    /** The last step applied (or given up); -1 once the tensor has taken a shard but none went. */
    private final ValueState<Long> lastApplied;

    /**
     * @param ttl the tensor's state time-to-live, or null for none
     */
    DataParallelSteps(RuntimeContext context, StateTtlConfig ttl) {
        MapStateDescriptor<Long, PendingStep> pendingDescriptor =
                new MapStateDescriptor<>(
                        PENDING_STATE_NAME,
                        LongSerializer.INSTANCE,
                        PendingStepSerializer.INSTANCE);
        ValueStateDescriptor<Long> lastAppliedDescriptor =
                new ValueStateDescriptor<>(LAST_APPLIED_STATE_NAME, Types.LONG);
        if (ttl != null) {
            pendingDescriptor.enableTimeToLive(ttl);
            lastAppliedDescriptor.enableTimeToLive(ttl);
        }
        pending = context.getMapState(pendingDescriptor);
        lastApplied = context.getState(lastAppliedDescriptor);
    }

    /**
     * Whether the current tensor takes data-parallel steps (it has taken a shard since a reset).
     */
    boolean active() throws Exception {
        return lastApplied.value() != null;
    }

    /** The last step applied, or -1. */
    long lastApplied() throws Exception {
        Long last = lastApplied.value();
        return last == null ? -1 : last;
    }

    /** The pending step of that number, or null. */
    PendingStep pendingStep(long step) throws Exception {
        return pending.get(step);
    }

    /**
     * Adds a shard to its step, opening the step (deadline = now + timeout) if it is the first of
     * it.
     */
    Arrival arrive(TensorEvent shard, long deadline) throws Exception {
        Long last = lastApplied.value();
        if (last == null) {
            lastApplied.update(-1L);
        } else if (shard.step <= last) {
            return Arrival.LATE;
        }
        PendingStep step = pending.get(shard.step);
        Arrival arrival = Arrival.JOINED;
        if (step == null) {
            step = new PendingStep(shard.step, shard.rule, shard.worldSize, deadline);
            arrival = Arrival.NEW_STEP;
        } else if (step.worldSize != shard.worldSize) {
            return Arrival.OTHER_WORLD_SIZE;
        } else if (step.hasArrived(shard.rank)) {
            return Arrival.DUPLICATE;
        }
        step.add(shard);
        pending.put(shard.step, step);
        return arrival;
    }

    /**
     * Takes the steps that are due, lowest first: each complete, or with its deadline at or before
     * {@code timeUp}; stops at the first step that is neither. The last step applied becomes the
     * last one taken.
     *
     * @param timeUp the processing time a timer fired for, or {@link Long#MIN_VALUE} when only
     *     complete steps may go (a shard arrived: whether time is up is for the timers to say)
     */
    List<PendingStep> takeDue(long timeUp) throws Exception {
        List<PendingStep> due = new ArrayList<>();
        for (PendingStep step : byStep().values()) {
            if (!step.isComplete() && step.deadline() > timeUp) {
                break;
            }
            due.add(step);
            pending.remove(step.step);
        }
        if (!due.isEmpty()) {
            lastApplied.update(due.get(due.size() - 1).step);
        }
        return due;
    }

    /**
     * Gives every step whose deadline is at or before {@code now} the later deadline instead; true
     * when there was one (a timer for the new deadline is then due).
     */
    boolean postponeOverdue(long now, long deadline) throws Exception {
        boolean postponed = false;
        for (PendingStep step : byStep().values()) {
            if (step.deadline() <= now) {
                step.postpone(deadline);
                pending.put(step.step, step);
                postponed = true;
            }
        }
        return postponed;
    }

    /** Forgets every step (a reset); returns the pending ones, lowest first. */
    List<PendingStep> clear() throws Exception {
        TreeMap<Long, PendingStep> byStep = byStep();
        pending.clear();
        lastApplied.clear();
        return new ArrayList<>(byStep.values());
    }

    private TreeMap<Long, PendingStep> byStep() throws Exception {
        TreeMap<Long, PendingStep> byStep = new TreeMap<>();
        for (var entry : pending.entries()) {
            byStep.put(entry.getKey(), entry.getValue());
        }
        return byStep;
    }
}
