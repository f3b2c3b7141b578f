package io.qparams.job.functions;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.records.ControlMessage;
import io.qparams.connectors.records.TensorNames;
import io.qparams.job.metrics.JobMetrics;
import io.qparams.job.metrics.JobMetrics.Refusal;
import io.qparams.job.records.TensorEvent;
import io.qparams.observers.InvalidBatchException;

/**
 * Control-topic records (CONTRACT section 5) to reset events; a malformed one becomes a dead
 * letter.
 */
public final class ParseControl extends ProcessFunction<KafkaInput, TensorEvent> {
    private static final long serialVersionUID = 1L;

    private transient JobMetrics metrics;

    @Override
    public void open(OpenContext openContext) {
        metrics = JobMetrics.parseControl(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement(KafkaInput record, Context ctx, Collector<TensorEvent> out) {
        Refusal stage = Refusal.KEY; // what a refusal is counted as
        try {
            String tensor = TensorNames.of(record.key);
            stage = Refusal.CONTROL;
            if (record.value == null) {
                throw new InvalidBatchException(
                        "control record has no value: expected {\"op\": \"reset\"}");
            }
            ControlMessage message = ControlMessage.parse(record.value);
            if (!message.isReset()) {
                throw new InvalidBatchException(
                        "unsupported control message: expected {\"op\": \"reset\"}");
            }
            out.collect(TensorEvent.reset(tensor, record));
        } catch (InvalidBatchException e) {
            metrics.deadLetter(stage);
            ctx.output(DeadLetterTag.DEAD_LETTERS, DeadLetter.of(record, e.getMessage()));
        } catch (RuntimeException e) {
            metrics.deadLetter(Refusal.CONTROL);
            ctx.output(
                    DeadLetterTag.DEAD_LETTERS,
                    DeadLetter.of(record, "cannot parse control message: " + e));
        }
    }
}
