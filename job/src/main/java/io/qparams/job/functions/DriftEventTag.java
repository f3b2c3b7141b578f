package io.qparams.job.functions;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import io.qparams.connectors.kafka.QParamsOutput;

/**
 * The side output of drift events (CONTRACT section 7): the observe function sends the first record
 * of each drift episode's event here; the job writes them to the events topic.
 */
public final class DriftEventTag {
    public static final OutputTag<QParamsOutput> DRIFT_EVENTS =
            new OutputTag<>("drift-events", TypeInformation.of(QParamsOutput.class));

    private DriftEventTag() {}
}
