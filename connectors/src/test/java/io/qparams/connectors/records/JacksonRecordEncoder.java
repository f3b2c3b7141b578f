package io.qparams.connectors.records;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.ObserverState;
import io.qparams.observers.QParams;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The record encoder as it was before {@link QParamsRecordEncoder} wrote bytes itself: Jackson's
 * generator, field by field. Kept as the reference the new encoder's bytes are compared with: the
 * records' bytes must not change.
 */
final class JacksonRecordEncoder {
    private static final JsonFactory FACTORY = JsonFactory.builder().build();

    private JacksonRecordEncoder() {}

    /**
     * @param state the observer's state after the batch was applied
     * @param qparams {@code calculate_qparams} of that state; when invalid the record says {@code
     *     "status": "invalid"} with torch's reason and null scale and zero_point
     */
    public static byte[] encode(
            String tensor,
            ObserverSpec spec,
            ObserverState state,
            QParams qparams,
            RecordSource source) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("tensor", tensor);
            g.writeStringField("status", qparams.isValid() ? "ok" : "invalid");
            if (!qparams.isValid()) {
                g.writeStringField("reason", qparams.invalidReason());
            }
            g.writeStringField("observer", spec.kind().name());
            g.writeStringField("dtype", spec.dtype().toString());
            g.writeStringField("qscheme", spec.qscheme().name());
            g.writeNumberField("quant_min", spec.quantMin());
            g.writeNumberField("quant_max", spec.quantMax());
            if (spec.kind().isMovingAverage()) {
                g.writeFieldName("averaging_constant");
                writeDouble(g, spec.averagingConstant());
            }
            boolean perChannel = spec.isPerChannel();
            if (perChannel) {
                g.writeNumberField("ch_axis", spec.chAxis());
            }
            g.writeNumberField("batches", state.batches());
            g.writeFieldName("min_val");
            writeFloats(g, state.minVal(), perChannel);
            g.writeFieldName("max_val");
            writeFloats(g, state.maxVal(), perChannel);
            writeQParams(g, qparams, perChannel);
            g.writeObjectFieldStart("source");
            if (source.isKafka()) {
                g.writeStringField("topic", source.topic());
                g.writeNumberField("partition", source.partition());
                g.writeNumberField("offset", source.offset());
            } else {
                g.writeStringField("file", source.file());
                g.writeNumberField("index", source.index());
            }
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    private static void writeQParams(JsonGenerator g, QParams qparams, boolean perChannel)
            throws IOException {
        if (!qparams.isValid()) {
            g.writeNullField("scale");
            g.writeNullField("zero_point");
            return;
        }
        int n = qparams.size();
        float[] scale = new float[n];
        for (int i = 0; i < n; i++) {
            scale[i] = qparams.scale(i);
        }
        g.writeFieldName("scale");
        writeFloats(g, scale, perChannel);
        g.writeFieldName("zero_point");
        if (perChannel) {
            g.writeStartArray();
        }
        for (int i = 0; i < (perChannel ? n : 1); i++) {
            if (qparams.hasFloatZeroPoint()) {
                writeFloat(g, qparams.zeroPointFloat(i));
            } else {
                g.writeNumber(qparams.zeroPoint(i));
            }
        }
        if (perChannel) {
            g.writeEndArray();
        }
    }

    /** A list for per-channel observers, else the single value. */
    private static void writeFloats(JsonGenerator g, float[] values, boolean asList)
            throws IOException {
        if (!asList) {
            writeFloat(g, values[0]);
            return;
        }
        g.writeStartArray();
        for (float v : values) {
            writeFloat(g, v);
        }
        g.writeEndArray();
    }

    private static void writeFloat(JsonGenerator g, float f) throws IOException {
        if (Float.isFinite(f)) {
            g.writeNumber(FloatJson.slowNumber(f));
        } else {
            g.writeString(FloatJson.nonFinite(f));
        }
    }

    /**
     * averaging_constant as configured (a Python float); rounded to float32 it is what the math
     * uses.
     */
    private static void writeDouble(JsonGenerator g, double d) throws IOException {
        if (Double.isFinite(d)) {
            g.writeNumber(Double.toString(d));
        } else {
            g.writeString(FloatJson.nonFinite(d));
        }
    }
}
