package io.qparams.job.functions;

import org.apache.flink.streaming.api.functions.KeyedProcessFunction;

import io.qparams.connectors.batch.StatsJson;
import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.connectors.kafka.QParamsOutput;
import io.qparams.job.metrics.JobMetrics;
import io.qparams.job.metrics.JobMetrics.Refusal;
import io.qparams.job.records.PendingStep;
import io.qparams.job.records.TensorEvent;
import io.qparams.observers.BatchMinMax;

import java.nio.charset.StandardCharsets;

/**
 * The dead letters of the observe operator, sent to the side output and counted by reason class:
 * past the keyBy only the reduced batch is left of a record, so a refused batch or shard goes to
 * the DLQ as JSON stats (replaying them is applying the same min/max), with the step headers it
 * came with.
 */
final class ObserverDeadLetters {
    private final JobMetrics metrics;

    ObserverDeadLetters(JobMetrics metrics) {
        this.metrics = metrics;
    }

    /** One refused batch or shard. */
    void refuse(
            KeyedProcessFunction<String, TensorEvent, QParamsOutput>.Context ctx,
            TensorEvent event,
            Refusal why,
            String reason) {
        metrics.deadLetter(why);
        ctx.output(DeadLetterTag.DEAD_LETTERS, of(event, reason));
    }

    /**
     * A batch without step headers for a tensor that takes data-parallel steps, or a shard for one
     * that takes records without them: one tensor's state never mixes the two.
     */
    void refuseMixing(
            KeyedProcessFunction<String, TensorEvent, QParamsOutput>.Context ctx,
            TensorEvent event) {
        String conflict =
                event.isShard()
                        ? "' takes records without qparams.step headers: a data-parallel shard"
                        : "' takes data-parallel steps: a record without qparams.step headers";
        refuse(
                ctx,
                event,
                Refusal.STEP,
                "tensor '"
                        + event.tensor
                        + conflict
                        + " cannot join them (reset the tensor first)");
    }

    /** A whole step: one dead letter, counted once. */
    void refuseStep(
            KeyedProcessFunction<String, TensorEvent, QParamsOutput>.Context ctx,
            PendingStep step,
            Refusal why,
            String reason) {
        metrics.deadLetter(why);
        ctx.output(DeadLetterTag.DEAD_LETTERS, ofStep(ctx.getCurrentKey(), step, reason));
    }

    /** One refused batch or shard, from its own record. */
    private static DeadLetter of(TensorEvent event, String reason) {
        DeadLetter letter =
                new DeadLetter(
                        event.tensor.getBytes(StandardCharsets.UTF_8),
                        event.hasValues() ? StatsJson.encode(event.toBatch()) : null,
                        StatsJson.CONTENT_TYPE,
                        reason,
                        event.sourceTopic,
                        event.sourcePartition,
                        event.sourceOffset);
        if (event.isShard()) {
            letter.step = Long.toString(event.step);
            letter.worldSize = Integer.toString(event.worldSize);
            letter.rank = Integer.toString(event.rank);
        }
        return letter;
    }

    /** A whole step: its merged shards, its last shard's source, its step and world size. */
    private static DeadLetter ofStep(String tensor, PendingStep step, String reason) {
        BatchMinMax batch = step.batch();
        DeadLetter letter =
                new DeadLetter(
                        tensor.getBytes(StandardCharsets.UTF_8),
                        batch == null ? null : StatsJson.encode(batch),
                        StatsJson.CONTENT_TYPE,
                        reason,
                        step.sourceTopic(),
                        step.sourcePartition(),
                        step.sourceOffset());
        letter.step = Long.toString(step.step);
        letter.worldSize = Integer.toString(step.worldSize);
        return letter;
    }
}
