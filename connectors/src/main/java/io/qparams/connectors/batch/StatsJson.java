package io.qparams.connectors.batch;

import io.qparams.connectors.records.FloatJson;
import io.qparams.observers.BatchMinMax;

import java.nio.charset.StandardCharsets;

/**
 * A reduced batch written as JSON stats (CONTRACT section 1, encoding 3): {@code {"min": m, "max":
 * M}}, vectors for per-channel batches. Decoding these bytes gives the same {@link BatchMinMax},
 * bit for bit, and applying them is exactly applying the batch they came from.
 */
public final class StatsJson {
    public static final String CONTENT_TYPE = BatchDecoder.CONTENT_TYPE_JSON;

    private StatsJson() {}

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
            float v = min ? batch.min(i) : batch.max(i);
            String number = FloatJson.number(v);
            s.append(i == 0 ? "" : ", ")
                    .append(number != null ? number : '"' + FloatJson.nonFinite(v) + '"');
        }
        if (batch.isPerChannel()) {
            s.append(']');
        }
    }
}
