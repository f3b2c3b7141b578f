package io.qparams.job.records;

import java.nio.charset.StandardCharsets;

import io.qparams.observers.BatchMinMax;

/**
 * A reduced batch as JSON stats (CONTRACT section 1, encoding 3). Used for batches the observer refuses
 * after the keyBy, where only the min/max crossed the network: applying these stats is exactly applying
 * the original batch, so the dead letter can still be fixed and replayed.
 */
public final class StatsJson {
    public static final String CONTENT_TYPE = "application/json";

    private StatsJson() {
    }

    public static byte[] encode(BatchMinMax batch) {
        StringBuilder s = new StringBuilder("{\"min\": ");
        appendValues(s, batch, true);
        s.append(", \"max\": ");
        appendValues(s, batch, false);
        return s.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void appendValues(StringBuilder s, BatchMinMax batch, boolean min) {
        if (batch.isPerChannel()) {
            s.append('[');
        }
        for (int i = 0; i < batch.size(); i++) {
            s.append(i == 0 ? "" : ", ");
            appendFloat(s, min ? batch.min(i) : batch.max(i));
        }
        if (batch.isPerChannel()) {
            s.append(']');
        }
    }

    /** The float's exact value as a double literal: read as a double and rounded to float32, it is the same bits. */
    static void appendFloat(StringBuilder s, float v) {
        if (Float.isNaN(v)) {
            s.append("\"NaN\"");
        } else if (Float.isInfinite(v)) {
            s.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        } else {
            s.append(Double.toString(v));
        }
    }
}
