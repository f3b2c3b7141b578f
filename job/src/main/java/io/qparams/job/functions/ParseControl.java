package io.qparams.job.functions;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.records.ControlMessage;
import io.qparams.connectors.records.TensorNames;
import io.qparams.job.records.TensorEvent;
import io.qparams.observers.InvalidBatchException;

/**
 * Control-topic records (CONTRACT section 5) to reset events; a malformed one becomes a dead
 * letter.
 */
public final class ParseControl extends ProcessFunction<KafkaInput, TensorEvent> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(KafkaInput record, Context ctx, Collector<TensorEvent> out) {
        try {
            String tensor = TensorNames.of(record.key);
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
            ctx.output(DeadLetterTag.DEAD_LETTERS, DeadLetter.of(record, e.getMessage()));
        } catch (RuntimeException e) {
            ctx.output(
                    DeadLetterTag.DEAD_LETTERS,
                    DeadLetter.of(record, "cannot parse control message: " + e));
        }
    }
}
