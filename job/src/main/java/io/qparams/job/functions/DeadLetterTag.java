package io.qparams.job.functions;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import io.qparams.connectors.kafka.DeadLetter;

/**
 * The side output every function sends refused records to; the job unions them into the DLQ sink.
 */
public final class DeadLetterTag {
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    private DeadLetterTag() {}
}
