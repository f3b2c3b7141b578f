package io.qparams.connectors.batch;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverSpec;

import java.io.IOException;
import java.util.Arrays;

/**
 * Pre-reduced stats {@code {"min": m, "max": M}} or {@code {"min": [...], "max": [...]}} as they
 * are read: scalars for per-tensor observers, vectors (one entry per channel) for per-channel ones.
 */
final class JsonStats {
    private float[] min;
    private float[] max;
    private boolean minScalar;
    private boolean maxScalar;

    boolean seenAny() {
        return min != null || max != null;
    }

    /** Reads the value of key "min" or "max"; the parser is on its first token. */
    void read(JsonParser p, String key) throws InvalidBatchException, IOException {
        if ((key.equals("min") ? min : max) != null) {
            throw new InvalidBatchException("JSON batch has key '" + key + "' twice");
        }
        JsonToken t = p.currentToken();
        boolean scalar = t != JsonToken.START_ARRAY;
        float[] values;
        if (scalar) {
            values = new float[] {JsonBatchDecoder.scalar(p, t, key)};
        } else {
            values = new float[8];
            int n = 0;
            for (t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                if (n == values.length) {
                    values =
                            Arrays.copyOf(
                                    values,
                                    2 * n); // bounded: every entry takes bytes of the record
                }
                values[n++] = JsonBatchDecoder.scalar(p, t, key);
            }
            values = Arrays.copyOf(values, n);
        }
        if (key.equals("min")) {
            min = values;
            minScalar = scalar;
        } else {
            max = values;
            maxScalar = scalar;
        }
    }

    /** The stats as a batch, after the checks of CONTRACT section 1 and the non-finite policy. */
    BatchMinMax toBatch(ObserverSpec spec, NonFinitePolicy policy) throws InvalidBatchException {
        if (min == null || max == null) {
            throw new InvalidBatchException(
                    "JSON stats lack '" + (min == null ? "min" : "max") + "'");
        }
        if (minScalar != maxScalar) {
            throw new InvalidBatchException(
                    "JSON stats 'min' is "
                            + (minScalar ? "a scalar" : "a list")
                            + " but 'max' is "
                            + (maxScalar ? "a scalar" : "a list"));
        }
        if (spec.isPerChannel() && minScalar) {
            throw new InvalidBatchException(
                    "scalar stats for per-channel observer "
                            + spec.kind()
                            + " (expected lists with one min/max per channel)");
        }
        if (!spec.isPerChannel() && !minScalar) {
            throw new InvalidBatchException(
                    "list stats for per-tensor observer "
                            + spec.kind()
                            + " (expected scalar min and max)");
        }
        return BatchMinMax.ofStats(min, max, spec.isPerChannel()).checkFinite(policy);
    }
}
