package io.qparams.connectors.records;

import io.qparams.observers.ValueCounts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a qparams record (CONTRACT section 3) back, for tests and tools. {@link #decode} is strict:
 * unknown or missing fields, and a field order other than the contract's, are refused, so a test
 * reading the encoder's output checks the format too. {@link #read} is what a consumer does
 * (CONTRACT section 7: unknown fields are ignored, so records of a later version still read).
 */
public final class QParamsRecordDecoder {
    private static final List<String> ORDER =
            List.of(
                    "tensor",
                    "status",
                    "reason",
                    "observer",
                    "dtype",
                    "qscheme",
                    "quant_min",
                    "quant_max",
                    "averaging_constant",
                    "ch_axis",
                    "batches",
                    "step",
                    "world_size",
                    "ranks",
                    "values",
                    "nonfinite",
                    "zeros",
                    "min_val",
                    "max_val",
                    "scale",
                    "zero_point",
                    "drift",
                    "drift_ratio",
                    "source");
    private static final Set<String> OPTIONAL =
            Set.of(
                    "reason",
                    "averaging_constant",
                    "ch_axis",
                    "step",
                    "world_size",
                    "ranks",
                    "values",
                    "nonfinite",
                    "zeros",
                    "drift",
                    "drift_ratio");

    private QParamsRecordDecoder() {}

    /** The record, strictly: only the contract's fields, in its order. */
    public static QParamsRecord decode(byte[] record) throws IOException {
        return decode(record, true);
    }

    /** The record as a consumer reads it: fields in any order, unknown ones ignored. */
    public static QParamsRecord read(byte[] record) throws IOException {
        return decode(record, false);
    }

    private static QParamsRecord decode(byte[] record, boolean strict) throws IOException {
        String text = new String(record, StandardCharsets.UTF_8);
        if (text.indexOf('\n') >= 0 && text.indexOf('\n') != text.length() - 1) {
            throw new IOException("a qparams record is one line");
        }
        if (!(JsonValues.parse(record) instanceof Map<?, ?> m)) {
            throw new IOException("a qparams record is a JSON object");
        }
        int last = -1;
        for (Object key : strict ? m.keySet() : Set.of()) {
            int at = ORDER.indexOf(key);
            if (at < 0) {
                throw new IOException("unknown field '" + key + "'");
            }
            if (at < last) {
                throw new IOException("field '" + key + "' out of the contract's order");
            }
            last = at;
        }
        for (String key : ORDER) {
            if (!OPTIONAL.contains(key) && !m.containsKey(key)) {
                throw new IOException("missing field '" + key + "'");
            }
        }
        try {
            QParamsRecord.Builder b = new QParamsRecord.Builder();
            b.tensor = (String) m.get("tensor");
            b.status = (String) m.get("status");
            b.reason = (String) m.get("reason");
            b.observer = (String) m.get("observer");
            b.dtype = (String) m.get("dtype");
            b.qscheme = (String) m.get("qscheme");
            b.quantMin = (Long) m.get("quant_min");
            b.quantMax = (Long) m.get("quant_max");
            Object c = m.get("averaging_constant");
            b.averagingConstant =
                    c == null
                            ? null
                            : c instanceof Number n ? n.doubleValue() : (double) FloatJson.parse(c);
            b.chAxis = (Long) m.get("ch_axis");
            boolean perChannel = b.chAxis != null;
            b.batches = (Long) m.get("batches");
            if (m.containsKey("values") || m.containsKey("nonfinite") || m.containsKey("zeros")) {
                b.counts =
                        new ValueCounts(
                                (Long) m.get("values"),
                                (Long) m.get("nonfinite"),
                                (Long) m.get("zeros"));
            }
            b.minVal = floats(m.get("min_val"), perChannel);
            b.maxVal = floats(m.get("max_val"), perChannel);
            if (m.get("scale") != null) {
                b.scale = floats(m.get("scale"), perChannel);
                if (b.qscheme.equals("per_channel_affine_float_qparams")) {
                    b.zeroPointFloat = floats(m.get("zero_point"), perChannel);
                } else {
                    b.zeroPoint = longs(m.get("zero_point"), perChannel);
                }
            } else if (m.get("zero_point") != null) {
                throw new IOException("zero_point without scale");
            }
            Map<?, ?> source = (Map<?, ?>) m.get("source");
            b.source =
                    source.containsKey("topic")
                            ? RecordSource.kafka(
                                    (String) source.get("topic"),
                                    Math.toIntExact((Long) source.get("partition")),
                                    (Long) source.get("offset"))
                            : RecordSource.file(
                                    (String) source.get("file"), (Long) source.get("index"));
            return b.build();
        } catch (ClassCastException
                | IllegalArgumentException
                | NullPointerException
                | ArithmeticException e) {
            throw new IOException("malformed qparams record: " + e.getMessage(), e);
        }
    }

    private static float[] floats(Object value, boolean list) throws IOException {
        List<?> items = items(value, list);
        float[] result = new float[items.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = FloatJson.parse(items.get(i));
        }
        return result;
    }

    private static long[] longs(Object value, boolean list) throws IOException {
        List<?> items = items(value, list);
        long[] result = new long[items.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = (Long) items.get(i);
        }
        return result;
    }

    private static List<?> items(Object value, boolean list) throws IOException {
        if (list != value instanceof List) {
            throw new IOException((list ? "a list" : "a scalar") + " expected, got " + value);
        }
        return list ? (List<?>) value : Collections.singletonList(value);
    }
}
