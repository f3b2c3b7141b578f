package io.qparams.job.functions;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import io.qparams.connectors.BatchPipeline;
import io.qparams.connectors.batch.StatsJson;
import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.QParamsOutput;
import io.qparams.connectors.records.RecordSource;
import io.qparams.job.ObserverConfigSource;
import io.qparams.job.records.TensorEvent;
import io.qparams.job.serializers.ObserverStateSerializer;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.ObserverState;

import java.nio.charset.StandardCharsets;

/**
 * One PyTorch-exact observer per tensor (the key), the observe-and-encode half of the {@link
 * BatchPipeline}. A batch updates the tensor's state and emits one qparams record; a reset clears
 * the state, so the next batch starts afresh at {@code batches = 1}. A batch the observer refuses
 * (channel count changed, wrong family) leaves the state as it was and goes to the dead letters as
 * JSON stats, the only form of it that reached this operator.
 */
public final class ObserveFunction
        extends KeyedProcessFunction<String, TensorEvent, QParamsOutput> {
    private static final long serialVersionUID = 1L;

    /** The state's name is part of every savepoint: never rename it. */
    public static final String STATE_NAME = "observer-state";

    private final ObserverConfigSource configSource;
    private transient BatchPipeline pipeline;
    private transient ValueState<ObserverState> observerState;

    public ObserveFunction(ObserverConfigSource configSource) {
        this.configSource = configSource;
    }

    @Override
    public void open(OpenContext openContext) {
        pipeline = new BatchPipeline(configSource.config());
        observerState =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        STATE_NAME, ObserverStateSerializer.INSTANCE));
    }

    @Override
    public void processElement(TensorEvent event, Context ctx, Collector<QParamsOutput> out)
            throws Exception {
        if (event.reset) {
            observerState.clear();
            return;
        }
        ObserverState state = observerState.value();
        if (state == null) {
            state = pipeline.initialState(event.rule);
        }
        BatchMinMax batch = event.toBatch();
        byte[] record;
        try {
            record =
                    pipeline.observe(
                            event.tensor,
                            event.rule,
                            state,
                            batch,
                            RecordSource.kafka(
                                    event.sourceTopic, event.sourcePartition, event.sourceOffset));
        } catch (InvalidBatchException e) {
            ctx.output(
                    DeadLetterTag.DEAD_LETTERS,
                    new DeadLetter(
                            event.tensor.getBytes(StandardCharsets.UTF_8),
                            StatsJson.encode(batch),
                            StatsJson.CONTENT_TYPE,
                            e.getMessage(),
                            event.sourceTopic,
                            event.sourcePartition,
                            event.sourceOffset));
            return;
        }
        observerState.update(state);
        out.collect(new QParamsOutput(event.tensor, record));
    }
}
