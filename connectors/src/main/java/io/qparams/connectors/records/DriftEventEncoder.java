package io.qparams.connectors.records;

import io.qparams.observers.Drift;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * The drift event (CONTRACT section 7): one line of UTF-8 JSON on the events topic, keyed by the
 * tensor, for the first record of each drift episode, so an export service can react without
 * reading every record:
 *
 * <pre>
 * {"tensor": "fc1.output", "event": "drift",
 *  "reason": "scale moved by 31.2% over 100 batches (0.0123 -> 0.0161), above the drift threshold of 25%",
 *  "batches": 250, "window": 100, "threshold": 0.25, "drift_ratio": 0.312,
 *  "scale_before": 0.0123, "scale": 0.0161, "source": {...}}
 * </pre>
 *
 * A per-channel observer's event adds {@code "channel"}, the channel that moved most, whose scales
 * these are. Floats are written as in the qparams record. One encoder per task: not thread-safe.
 */
public final class DriftEventEncoder {
    private final JsonBytes out = new JsonBytes(512);

    /**
     * @param batches the record's batch count
     * @param perChannel whether the observer is per-channel (the event names the channel)
     */
    public byte[] encode(
            String tensor, long batches, Drift drift, boolean perChannel, RecordSource source) {
        JsonBytes g = out;
        g.reset();
        g.ascii("{\"tensor\":").string(tensor);
        g.ascii(",\"event\":\"drift\",\"reason\":").string(reason(drift, perChannel));
        g.ascii(",\"batches\":").number(batches);
        g.ascii(",\"window\":").number(drift.rule().window());
        g.ascii(",\"threshold\":").ascii(Double.toString(drift.rule().threshold()));
        g.ascii(",\"drift_ratio\":").floatValue(drift.ratio());
        if (perChannel) {
            g.ascii(",\"channel\":").number(drift.channel());
        }
        g.ascii(",\"scale_before\":").floatValue(drift.scaleBefore());
        g.ascii(",\"scale\":").floatValue(drift.scaleNow());
        QParamsRecordEncoder.writeSource(g, source);
        g.raw('}');
        return g.toByteArray();
    }

    /** "scale moved by 31.2% over 100 batches (a -> b), above the drift threshold of 25%". */
    static String reason(Drift drift, boolean perChannel) {
        return String.format(
                Locale.ROOT,
                "scale%s moved by %.1f%% over %d batches (%s -> %s), above the drift threshold"
                        + " of %s%%",
                perChannel ? " of channel " + drift.channel() : "",
                drift.ratio() * 100.0,
                drift.rule().window(),
                drift.scaleBefore(),
                drift.scaleNow(),
                BigDecimal.valueOf(drift.rule().threshold())
                        .movePointRight(2)
                        .stripTrailingZeros()
                        .toPlainString());
    }
}
