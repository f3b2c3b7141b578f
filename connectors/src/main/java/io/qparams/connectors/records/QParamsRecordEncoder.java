package io.qparams.connectors.records;

import io.qparams.observers.Drift;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.ObserverState;
import io.qparams.observers.QParams;
import io.qparams.observers.ValueCounts;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The qparams record (CONTRACT section 3): one line of UTF-8 JSON per applied batch, fields in the
 * contract's order. Floats are float32 values written so that reading them as a double and rounding
 * to float32 gives the exact bits ({@link FloatJson}).
 *
 * <p>Written straight into a reused buffer ({@link JsonBytes}), with the fields that only depend on
 * the observer (observer, dtype, qscheme, quant range, averaging constant, ch_axis) encoded once
 * per spec: per-tensor records are mostly those, per-channel ones mostly floats. The bytes are the
 * ones Jackson's generator wrote for the same record before (RecordBytesUnchangedTest compares the
 * two on random records). One encoder per task: not thread-safe.
 */
public final class QParamsRecordEncoder {
    /** Spec (the config's, one per rule: a handful) to its constant fields, ",\"observer\":...". */
    private final Map<ObserverSpec, byte[]> specFields = new IdentityHashMap<>();

    private final JsonBytes out = new JsonBytes(512);

    /**
     * @param state the observer's state after the batch was applied
     * @param qparams {@code calculate_qparams} of that state; when invalid the record says {@code
     *     "status": "invalid"} with torch's reason and null scale and zero_point
     */
    public byte[] encode(
            String tensor,
            ObserverSpec spec,
            ObserverState state,
            QParams qparams,
            RecordSource source) {
        return encode(tensor, spec, state, qparams, source, null, null, null);
    }

    /**
     * @param step the data-parallel step the update merged, or null for a record of one batch
     * @param drift the drift rule's verdict, or null for a record without drift fields
     * @param counts what the applied tensor held (values, nonfinite, zeros), or null for stats
     */
    public byte[] encode(
            String tensor,
            ObserverSpec spec,
            ObserverState state,
            QParams qparams,
            RecordSource source,
            MergedStep step,
            Drift drift,
            ValueCounts counts) {
        JsonBytes g = out;
        g.reset();
        g.ascii("{\"tensor\":").string(tensor);
        if (qparams.isValid()) {
            g.ascii(",\"status\":\"ok\"");
        } else {
            g.ascii(",\"status\":\"invalid\",\"reason\":").string(qparams.invalidReason());
        }
        g.raw(specFields.computeIfAbsent(spec, QParamsRecordEncoder::specFields));
        boolean perChannel = spec.isPerChannel();
        g.ascii(",\"batches\":").number(state.batches());
        if (step != null) {
            g.ascii(",\"step\":").number(step.step());
            g.ascii(",\"world_size\":").number(step.worldSize());
            g.ascii(",\"ranks\":").number(step.ranks());
        }
        if (counts != null) {
            g.ascii(",\"values\":").number(counts.values());
            g.ascii(",\"nonfinite\":").number(counts.nonFinite());
            g.ascii(",\"zeros\":").number(counts.zeros());
        }
        g.ascii(",\"min_val\":");
        writeFloats(g, state.minVal(), perChannel);
        g.ascii(",\"max_val\":");
        writeFloats(g, state.maxVal(), perChannel);
        writeQParams(g, qparams, perChannel);
        if (drift != null) {
            g.ascii(drift.drifting() ? ",\"drift\":true" : ",\"drift\":false");
            g.ascii(",\"drift_ratio\":").floatValue(drift.ratio());
        }
        writeSource(g, source);
        g.raw('}');
        return g.toByteArray();
    }

    /** {@code ,"source":{...}}: the input record (or calibrate's file) behind a record. */
    static void writeSource(JsonBytes g, RecordSource source) {
        if (source.isKafka()) {
            g.ascii(",\"source\":{\"topic\":").string(source.topic());
            g.ascii(",\"partition\":").number(source.partition());
            g.ascii(",\"offset\":").number(source.offset());
        } else {
            g.ascii(",\"source\":{\"file\":").string(source.file());
            g.ascii(",\"index\":").number(source.index());
        }
        g.raw('}');
    }

    /** The fields from "observer" to "ch_axis", with their leading comma. */
    private static byte[] specFields(ObserverSpec spec) {
        JsonBytes g = new JsonBytes(256);
        g.ascii(",\"observer\":").string(spec.kind().name());
        g.ascii(",\"dtype\":").string(spec.dtype().toString());
        g.ascii(",\"qscheme\":").string(spec.qscheme().name());
        g.ascii(",\"quant_min\":").number(spec.quantMin());
        g.ascii(",\"quant_max\":").number(spec.quantMax());
        if (spec.kind().isMovingAverage()) {
            // As configured (a Python float); rounded to float32 it is what the math uses.
            double d = spec.averagingConstant();
            g.ascii(",\"averaging_constant\":");
            if (Double.isFinite(d)) {
                g.ascii(Double.toString(d));
            } else {
                g.string(FloatJson.nonFinite(d));
            }
        }
        if (spec.isPerChannel()) {
            g.ascii(",\"ch_axis\":").number(spec.chAxis());
        }
        return g.toByteArray();
    }

    private static void writeQParams(JsonBytes g, QParams qparams, boolean perChannel) {
        if (!qparams.isValid()) {
            g.ascii(",\"scale\":null,\"zero_point\":null");
            return;
        }
        int n = perChannel ? qparams.size() : 1;
        g.ascii(",\"scale\":");
        if (perChannel) {
            g.raw('[');
        }
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                g.raw(',');
            }
            g.floatValue(qparams.scale(i));
        }
        g.ascii(perChannel ? "],\"zero_point\":[" : ",\"zero_point\":");
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                g.raw(',');
            }
            if (qparams.hasFloatZeroPoint()) {
                g.floatValue(qparams.zeroPointFloat(i));
            } else {
                g.number(qparams.zeroPoint(i));
            }
        }
        if (perChannel) {
            g.raw(']');
        }
    }

    /** A list for per-channel observers, else the single value. */
    private static void writeFloats(JsonBytes g, float[] values, boolean asList) {
        if (!asList) {
            g.floatValue(values[0]);
            return;
        }
        g.raw('[');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                g.raw(',');
            }
            g.floatValue(values[i]);
        }
        g.raw(']');
    }
}
