package io.qparams.job.functions;

import java.nio.charset.StandardCharsets;

import io.qparams.connectors.batch.BatchDecoder;
import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.job.ObserverConfigSource;
import io.qparams.job.records.TensorEvent;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.ObserverConfig;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Runs in the source task, before the keyBy: finds the tensor's rule, decodes the batch and reduces it
 * to min/max, so only those vectors cross the network. A bad record becomes a dead letter, never an
 * exception: the job does not restart over bad input.
 */
public final class DecodeAndReduce extends ProcessFunction<KafkaInput, TensorEvent> {
    private static final long serialVersionUID = 1L;
    public static final String NO_KEY = "record has no key: the key must be the tensor name";

    private final ObserverConfigSource configSource;
    private final int maxBatchBytes;
    private transient ObserverConfig config;
    private transient BatchDecoder decoder;

    public DecodeAndReduce(ObserverConfigSource configSource) {
        this(configSource, BatchDecoder.DEFAULT_MAX_VALUE_BYTES);
    }

    /** @param maxBatchBytes larger values are refused before any parsing */
    public DecodeAndReduce(ObserverConfigSource configSource, int maxBatchBytes) {
        this.configSource = configSource;
        this.maxBatchBytes = maxBatchBytes;
    }

    @Override
    public void open(OpenContext openContext) {
        config = configSource.config();
        decoder = new BatchDecoder(maxBatchBytes);
    }

    @Override
    public void processElement(KafkaInput record, Context ctx, Collector<TensorEvent> out) {
        String tensor = tensorOf(record);
        if (tensor == null) {
            ctx.output(DeadLetterTag.DEAD_LETTERS, DeadLetter.of(record, NO_KEY));
            return;
        }
        int rule = config.ruleIndexFor(tensor);
        if (rule < 0) {
            ctx.output(DeadLetterTag.DEAD_LETTERS, DeadLetter.of(record, "no observer rule matches tensor '" + tensor + "'"));
            return;
        }
        if (record.value == null) {
            ctx.output(DeadLetterTag.DEAD_LETTERS, DeadLetter.of(record, "record has no value: expected a batch"));
            return;
        }
        BatchMinMax batch;
        try {
            batch = decoder.decode(record.value, record.contentType, config.rules().get(rule).spec(), config.nonFinite());
        } catch (InvalidBatchException e) {
            ctx.output(DeadLetterTag.DEAD_LETTERS, DeadLetter.of(record, e.getMessage()));
            return;
        } catch (RuntimeException e) {
            // A decoder bug must not restart the job over one record: park the record with the cause.
            ctx.output(DeadLetterTag.DEAD_LETTERS, DeadLetter.of(record, "cannot decode batch: " + e));
            return;
        }
        if (batch != null) { // null: an empty tensor, which changes nothing (CONTRACT section 1)
            out.collect(TensorEvent.batch(tensor, rule, batch, record));
        }
    }

    /** The tensor name from the key; null when there is none. */
    static String tensorOf(KafkaInput record) {
        return record.key == null || record.key.length == 0 ? null : new String(record.key, StandardCharsets.UTF_8);
    }
}
