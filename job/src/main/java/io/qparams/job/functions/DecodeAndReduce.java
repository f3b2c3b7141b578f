package io.qparams.job.functions;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.qparams.connectors.BatchPipeline;
import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.records.StepHeaders;
import io.qparams.connectors.records.TensorNames;
import io.qparams.job.ObserverConfigSource;
import io.qparams.job.metrics.JobMetrics;
import io.qparams.job.metrics.JobMetrics.Refusal;
import io.qparams.job.records.TensorEvent;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;

/**
 * Runs in the source task, before the keyBy: the decode half of the {@link BatchPipeline} (the
 * tensor's rule, the batch reduced to min/max), so only those vectors cross the network. A bad
 * record becomes a dead letter, never an exception: the job does not restart over bad input.
 */
public final class DecodeAndReduce extends ProcessFunction<KafkaInput, TensorEvent> {
    private static final long serialVersionUID = 1L;

    private final ObserverConfigSource configSource;
    private final int maxBatchBytes;
    private transient BatchPipeline pipeline;
    private transient JobMetrics metrics;

    /**
     * @param maxBatchBytes larger values are refused before any parsing
     */
    public DecodeAndReduce(ObserverConfigSource configSource, int maxBatchBytes) {
        this.configSource = configSource;
        this.maxBatchBytes = maxBatchBytes;
    }

    @Override
    public void open(OpenContext openContext) {
        pipeline = new BatchPipeline(configSource.config(), maxBatchBytes);
        metrics = JobMetrics.decodeAndReduce(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement(KafkaInput record, Context ctx, Collector<TensorEvent> out) {
        Refusal stage = Refusal.KEY; // what a refusal is counted as: each step moves it on
        try {
            String tensor = TensorNames.of(record.key);
            stage = Refusal.STEP;
            StepHeaders.Step step = StepHeaders.parse(record.step, record.worldSize, record.rank);
            stage = Refusal.NO_RULE;
            int rule = pipeline.ruleFor(tensor);
            stage = Refusal.DECODE;
            BatchMinMax batch = pipeline.decode(rule, record.value, record.contentType);
            if (batch != null && batch.counts() != null) {
                metrics.nonfiniteValues(batch.counts().nonFinite());
            }
            if (step != null) {
                // An empty shard still counts: its rank has arrived for the step.
                out.collect(TensorEvent.shard(tensor, rule, batch, step, record));
            } else if (batch != null) {
                // null: an empty tensor, which changes nothing (CONTRACT section 1)
                out.collect(TensorEvent.batch(tensor, rule, batch, record));
            }
        } catch (InvalidBatchException e) {
            if (e.counts() != null) {
                metrics.nonfiniteValues(e.counts().nonFinite()); // refused for them, but seen
            }
            metrics.deadLetter(
                    stage == Refusal.DECODE
                            ? Refusal.ofDecode(e, record.value, maxBatchBytes)
                            : stage);
            ctx.output(DeadLetterTag.DEAD_LETTERS, DeadLetter.of(record, e.getMessage()));
        }
    }
}
