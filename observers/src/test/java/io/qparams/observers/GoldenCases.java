package io.qparams.observers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Reading the golden files written by observers/golden/generate_goldens.py (format: its README.md).
 */
final class GoldenCases {
    private GoldenCases() {}

    /** One golden file: its meta header and its cases, in file order. */
    record GoldenFile(String name, Map<String, Object> meta, List<Map<String, Object>> cases) {}

    static GoldenFile read(String name, InputStream raw) throws IOException {
        InputStream in = name.endsWith(".gz") ? new GZIPInputStream(raw) : raw;
        List<Map<String, Object>> cases = new ArrayList<>();
        Map<String, Object> meta = null;
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                Map<String, Object> object = map(GoldenJson.parse(line));
                if (meta == null) {
                    meta = map(object.get("meta"));
                    if (meta == null) {
                        throw new IOException(
                                name + ": the first line must be the {\"meta\": ...} header");
                    }
                } else {
                    cases.add(object);
                }
            }
        }
        return new GoldenFile(name, meta, cases);
    }

    /** The spec torch's constructor got, from the keyword arguments recorded with torch's names. */
    static ObserverSpec spec(String observer, Map<String, Object> kwargs) {
        ObserverSpec.Builder b = ObserverSpec.builder(ObserverKind.parse(observer));
        for (Map.Entry<String, Object> e : kwargs.entrySet()) {
            Object v = e.getValue();
            switch (e.getKey()) {
                case "dtype":
                    b.dtype(QuantDtype.parse((String) v));
                    break;
                case "qscheme":
                    b.qscheme(QScheme.parse((String) v));
                    break;
                case "reduce_range":
                    b.reduceRange((Boolean) v);
                    break;
                case "quant_min":
                    b.quantMin(Math.toIntExact((Long) v));
                    break;
                case "quant_max":
                    b.quantMax(Math.toIntExact((Long) v));
                    break;
                case "eps":
                    b.eps(((Number) v).doubleValue());
                    break;
                case "averaging_constant":
                    b.averagingConstant(((Number) v).doubleValue());
                    break;
                case "ch_axis":
                    b.chAxis(Math.toIntExact((Long) v));
                    break;
                default:
                    throw new IllegalArgumentException("unknown kwarg in golden: " + e.getKey());
            }
        }
        return b.build();
    }

    static long[] shape(Map<String, Object> input) {
        List<Object> dims = list(input.get("shape"));
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = (Long) dims.get(i);
        }
        return shape;
    }

    /** The input's elements in C order, cast to float32 as {@code x.to(torch.float32)} does. */
    static float[] values(Map<String, Object> input) {
        String dtype = (String) input.get("dtype");
        ByteBuffer bytes =
                ByteBuffer.wrap(HexFormat.of().parseHex((String) input.get("hex")))
                        .order(ByteOrder.LITTLE_ENDIAN);
        int size =
                switch (dtype) {
                    case "float64", "int64" -> 8;
                    case "float32", "int32" -> 4;
                    case "float16", "int16" -> 2;
                    case "int8", "uint8" -> 1;
                    default ->
                            throw new IllegalArgumentException(
                                    "unsupported input dtype in golden: " + dtype);
                };
        float[] out = new float[bytes.remaining() / size];
        for (int i = 0; i < out.length; i++) {
            out[i] =
                    switch (dtype) {
                        case "float64" -> Casts.float64ToFloat(bytes.getDouble());
                        case "int64" -> Casts.int64ToFloat(bytes.getLong());
                        case "float32" -> bytes.getFloat();
                        case "int32" -> (float) bytes.getInt();
                        case "float16" -> Casts.float16ToFloat(bytes.getShort());
                        case "int16" -> (float) bytes.getShort();
                        case "int8" -> (float) bytes.get();
                        default -> (float) (bytes.get() & 0xff); // uint8
                    };
        }
        return out;
    }

    /** A list of 8-digit hex float32 bit patterns. */
    static float[] floats(Object hexList) {
        List<Object> list = list(hexList);
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat(Integer.parseUnsignedInt((String) list.get(i), 16));
        }
        return out;
    }

    static String hex(float f) {
        return String.format("%08x", Float.floatToRawIntBits(f));
    }

    static String collapseWhitespace(String s) {
        return String.join(" ", s.trim().split("\\s+"));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return (List<Object>) o;
    }
}
