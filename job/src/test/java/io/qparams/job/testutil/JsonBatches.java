package io.qparams.job.testutil;

import java.nio.charset.StandardCharsets;

/** JSON tensors and JSON stats (CONTRACT section 1) whose numbers are the floats' exact values. */
public final class JsonBatches {
    private JsonBatches() {}

    public static byte[] tensor(long[] shape, float[] data) {
        StringBuilder s = new StringBuilder("{\"shape\": [");
        for (int i = 0; i < shape.length; i++) {
            s.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        s.append("], \"data\": ");
        appendArray(s, data);
        return s.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] stats(float min, float max) {
        StringBuilder s = new StringBuilder("{\"min\": ");
        appendNumber(s, min);
        s.append(", \"max\": ");
        appendNumber(s, max);
        return s.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] stats(float[] min, float[] max) {
        StringBuilder s = new StringBuilder("{\"min\": ");
        appendArray(s, min);
        s.append(", \"max\": ");
        appendArray(s, max);
        return s.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void appendArray(StringBuilder s, float[] values) {
        s.append('[');
        for (int i = 0; i < values.length; i++) {
            s.append(i == 0 ? "" : ", ");
            appendNumber(s, values[i]);
        }
        s.append(']');
    }

    static void appendNumber(StringBuilder s, float v) {
        if (Float.isNaN(v)) {
            s.append("\"NaN\"");
        } else if (Float.isInfinite(v)) {
            s.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        } else {
            s.append(
                    Double.toString(
                            v)); // the float's exact value: read as a double, rounds back to the
            // same bits
        }
    }
}
