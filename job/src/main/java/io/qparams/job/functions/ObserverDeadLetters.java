package io.qparams.job.functions;

import io.qparams.connectors.batch.StatsJson;
import io.qparams.connectors.kafka.DeadLetter;
import io.qparams.job.records.PendingStep;
import io.qparams.job.records.TensorEvent;
import io.qparams.observers.BatchMinMax;

import java.nio.charset.StandardCharsets;

/**
 * The dead letters of the observe operator: past the keyBy only the reduced batch is left of a
 * record, so a refused batch or shard goes to the DLQ as JSON stats (replaying them is applying the
 * same min/max), with the step headers it came with.
 */
final class ObserverDeadLetters {
    private ObserverDeadLetters() {}

    /** One refused batch or shard, from its own record. */
    static DeadLetter of(TensorEvent event, String reason) {
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
    static DeadLetter ofStep(String tensor, PendingStep step, String reason) {
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
