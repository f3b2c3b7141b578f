package io.qparams.job.functions;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.array.FloatPrimitiveArraySerializer;

import io.qparams.observers.Drift;

/**
 * The drift history of the current tensor (the key), in keyed state: the scales of its last {@code
 * window} records, keyed by batch number (one entry read, one written and one removed per record,
 * whatever the window: no list of a window's vectors is rewritten each time), and whether its last
 * record was drifting. A window changed between a savepoint and a restore leaves at most the
 * difference in entries behind until the tensor's next reset.
 *
 * <p>Only tensors a drift rule watches touch it. Keyed state access can only fail with the state
 * backend, and then the job fails and restarts: the failure passes unchecked.
 */
final class DriftHistoryState implements Drift.History {
    /** The states' names are part of every savepoint: never rename them. */
    static final String SCALES_STATE_NAME = "drift-scales";

    static final String EPISODE_STATE_NAME = "drift-episode";

    private final MapState<Long, float[]> scales;
    private final ValueState<Boolean> episode;

    /**
     * @param ttl the tensor's state time-to-live, or null for none
     */
    DriftHistoryState(RuntimeContext context, StateTtlConfig ttl) {
        MapStateDescriptor<Long, float[]> scalesDescriptor =
                new MapStateDescriptor<>(
                        SCALES_STATE_NAME,
                        LongSerializer.INSTANCE,
                        FloatPrimitiveArraySerializer.INSTANCE);
        ValueStateDescriptor<Boolean> episodeDescriptor =
                new ValueStateDescriptor<>(EPISODE_STATE_NAME, Types.BOOLEAN);
        if (ttl != null) {
            scalesDescriptor.enableTimeToLive(ttl);
            episodeDescriptor.enableTimeToLive(ttl);
        }
        scales = context.getMapState(scalesDescriptor);
        episode = context.getState(episodeDescriptor);
    }

    @Override
    public float[] scaleAt(long batch) {
        try {
            return scales.get(batch);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the drift history", e);
        }
    }

    @Override
    public void record(long batch, float[] scale, long forget) {
        try {
            scales.remove(forget);
            scales.put(batch, scale);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write the drift history", e);
        }
    }

    @Override
    public boolean inEpisode() {
        try {
            return Boolean.TRUE.equals(episode.value());
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the drift history", e);
        }
    }

    @Override
    public void inEpisode(boolean drifting) {
        try {
            if (drifting) {
                episode.update(true);
            } else {
                episode.clear();
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot write the drift history", e);
        }
    }

    /** Forgets the current tensor's history (a reset). */
    void clear() {
        scales.clear();
        episode.clear();
    }
}
