package io.qparams.job.testutil;

import java.util.HashMap;
import java.util.Map;

import io.qparams.connectors.batch.BatchDecoder;
import io.qparams.connectors.records.QParamsRecordEncoder;
import io.qparams.connectors.records.RecordSource;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;

/**
 * The qparams records a failure-free job must emit, computed outside Flink: each batch decoded and
 * applied in log order through the connectors and observers APIs, each record encoded with its source.
 * What the job emits must equal these bytes exactly.
 */
public final class Replay {
    private final ObserverConfig config;
    private final BatchDecoder decoder = new BatchDecoder(Integer.MAX_VALUE - 8);
    private final Map<String, ObserverState> states = new HashMap<>();

    public Replay(ObserverConfig config) {
        this.config = config;
    }

    /**
     * Applies one input record of {@code tensor}.
     *
     * @return the record the job emits for it, or null when it emits none (an empty tensor)
     * @throws InvalidBatchException when the job refuses the record (it goes to the DLQ, the state stays)
     */
    public byte[] apply(String tensor, byte[] value, String contentType, String topic, int partition, long offset)
            throws InvalidBatchException {
        Observer observer = config.observerFor(tensor);
        if (observer == null) {
            throw new InvalidBatchException("no observer rule matches tensor '" + tensor + "'");
        }
        BatchMinMax batch = decoder.decode(value, contentType, observer.spec(), config.nonFinite());
        if (batch == null) {
            return null;
        }
        ObserverState state = states.computeIfAbsent(tensor, t -> observer.initialState()).copy();
        observer.update(state, batch);
        states.put(tensor, state);
        return QParamsRecordEncoder.encode(tensor, observer.spec(), state, observer.calculateQParams(state),
                RecordSource.kafka(topic, partition, offset));
    }

    /** A reset from the control topic. */
    public void reset(String tensor) {
        states.remove(tensor);
    }
}
