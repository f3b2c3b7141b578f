package io.qparams.connectors.batch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.qparams.connectors.Reasons;
import io.qparams.connectors.records.FloatJson;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.BatchReducer;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverSpec;

import java.io.IOException;
import java.util.Arrays;

/**
 * JSON batches, read with Jackson's streaming parser: a tensor {@code {"shape": [...], "data":
 * [...]}} (data flat in row-major order or nested as the shape says) streamed through the chunk
 * buffer into the reducer, or pre-reduced stats {@code {"min": m, "max": M}} (vectors for
 * per-channel observers). Numbers are read as doubles, then rounded to float32; "NaN", "Infinity",
 * "-Infinity" are the only strings allowed. A 0-d tensor ({@code "shape": []}) takes a single
 * number or a one-element list. Keys may come in any order; when "data" precedes "shape" the record
 * is parsed a second time.
 */
final class JsonBatchDecoder {
    /**
     * Numbers through Jackson's bundled FastDoubleParser: correctly rounded like {@link
     * Double#parseDouble} (the same double for every input, JsonNumbersTest), several times faster.
     */
    static final JsonFactory FACTORY =
            JsonFactory.builder().enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER).build();

    private final float[] chunk;
    private BatchReducer reducer;
    private int fill;
    private long count;
    private long numel;
    private long[] shape;

    JsonBatchDecoder(float[] chunk) {
        this.chunk = chunk;
    }

    BatchMinMax decode(byte[] value, ObserverSpec spec, NonFinitePolicy policy)
            throws InvalidBatchException, IOException {
        reducer = null;
        shape = null;
        boolean sawData = false;
        boolean dataRead = false;
        JsonStats stats = new JsonStats();
        try (JsonParser p = FACTORY.createParser(value)) {
            JsonToken first = p.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new InvalidBatchException(
                        "JSON batch must be an object, got " + describe(first));
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                switch (key) {
                    case "shape":
                    case "data":
                        if (stats.seenAny()) {
                            throw mixed();
                        }
                        if (key.equals("shape")) {
                            if (shape != null) {
                                throw duplicate(key);
                            }
                            readShape(p, value.length);
                            if (sawData) {
                                break;
                            }
                            reducer =
                                    numel == 0
                                            ? null
                                            : BatchReducer.forSpec(spec, shape, false, policy);
                        } else {
                            if (sawData) {
                                throw duplicate(key);
                            }
                            sawData = true;
                            if (shape == null) {
                                p.skipChildren(); // streamed on a second pass, once the
                                // shape is known
                            } else {
                                readData(p);
                                dataRead = true;
                            }
                        }
                        break;
                    case "min":
                    case "max":
                        if (shape != null || sawData) {
                            throw mixed();
                        }
                        stats.read(p, key);
                        break;
                    default:
                        throw new InvalidBatchException(
                                "JSON batch has unknown key '"
                                        + Reasons.excerpt(key)
                                        + "' (expected 'shape' and 'data', or 'min' and 'max')");
                }
            }
            if (p.nextToken() != null) {
                throw new InvalidBatchException("JSON batch has content after its closing '}'");
            }
        }
        if (stats.seenAny()) {
            return stats.toBatch(spec, policy);
        }
        if (shape == null) {
            throw new InvalidBatchException(
                    sawData
                            ? "JSON tensor lacks 'shape'"
                            : "JSON batch is empty: expected 'shape' and 'data', or 'min' and"
                                    + " 'max'");
        }
        if (!sawData) {
            throw new InvalidBatchException("JSON tensor lacks 'data'");
        }
        if (!dataRead) {
            reducer = numel == 0 ? null : BatchReducer.forSpec(spec, shape, false, policy);
            streamDataSecondPass(value);
        }
        return reducer == null ? null : reducer.finish();
    }

    private void streamDataSecondPass(byte[] value) throws InvalidBatchException, IOException {
        try (JsonParser p = FACTORY.createParser(value)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if (key.equals("data")) {
                    readData(p);
                    return;
                }
                p.skipChildren();
            }
        }
    }

    private void readShape(JsonParser p, int recordBytes)
            throws InvalidBatchException, IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new InvalidBatchException(
                    "JSON 'shape' must be a list of non-negative integers, got "
                            + describe(p.currentToken()));
        }
        long[] dims = new long[4];
        int ndim = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t != JsonToken.VALUE_NUMBER_INT
                    || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || p.getLongValue() < 0) {
                throw new InvalidBatchException(
                        "JSON 'shape' must be a list of non-negative integers, got "
                                + (t == JsonToken.VALUE_NUMBER_INT
                                                || t == JsonToken.VALUE_NUMBER_FLOAT
                                        ? Reasons.excerpt(p.getText())
                                        : describe(t))
                                + " in it");
            }
            if (ndim == NpyHeader.MAX_DIMS) {
                throw new InvalidBatchException(
                        "JSON 'shape' has more than " + NpyHeader.MAX_DIMS + " dimensions");
            }
            if (ndim == dims.length) {
                dims = Arrays.copyOf(dims, 2 * ndim);
            }
            dims[ndim++] = p.getLongValue();
        }
        shape = Arrays.copyOf(dims, ndim);
        numel = BatchReducer.numel(shape);
        // Every value takes at least one byte: a larger claim is false, and must not size any
        // buffer.
        if (numel > recordBytes) {
            throw new InvalidBatchException(
                    "JSON 'shape' "
                            + Arrays.toString(shape)
                            + " claims "
                            + numel
                            + " values, more than a record of "
                            + recordBytes
                            + " bytes can hold");
        }
    }

    /** Reads the "data" value (the parser is on its first token) into the reducer. */
    private void readData(JsonParser p) throws InvalidBatchException, IOException {
        fill = 0;
        count = 0;
        JsonToken t = p.currentToken();
        if (shape.length == 0 && t != JsonToken.START_ARRAY) {
            accept(p, t);
        } else if (t != JsonToken.START_ARRAY) {
            throw new InvalidBatchException(
                    "JSON 'data' must be a list for shape "
                            + Arrays.toString(shape)
                            + ", got "
                            + describe(t));
        } else {
            JsonToken firstItem = p.nextToken();
            if (firstItem == JsonToken.START_ARRAY) {
                if (shape.length < 2) {
                    throw new InvalidBatchException(
                            "JSON 'data' is nested deeper than shape " + Arrays.toString(shape));
                }
                readNested(p, 0, firstItem, new long[shape.length]);
            } else {
                readFlat(p, firstItem);
            }
        }
        if (count != numel) {
            throw new InvalidBatchException(
                    "JSON 'data' holds "
                            + count
                            + " values but shape "
                            + Arrays.toString(shape)
                            + " needs "
                            + numel);
        }
        if (fill > 0) {
            reducer.accept(chunk, 0, fill);
        }
    }

    private void readFlat(JsonParser p, JsonToken first) throws InvalidBatchException, IOException {
        for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t == JsonToken.START_ARRAY) {
                throw new InvalidBatchException(
                        "JSON 'data' mixes numbers and nested lists at data[" + count + "]");
            }
            accept(p, t);
        }
    }

    /**
     * One list at {@code depth} of nested data, whose first item is {@code first}; index holds the
     * path.
     */
    private void readNested(JsonParser p, int depth, JsonToken first, long[] index)
            throws InvalidBatchException, IOException {
        boolean leaf = depth == shape.length - 1;
        index[depth] = 0;
        for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (index[depth] == shape[depth]) {
                throw ragged(index, depth, "more than " + shape[depth] + " entries");
            }
            if (leaf) {
                if (t == JsonToken.START_ARRAY) {
                    throw ragged(
                            index,
                            depth,
                            "a list where a number belongs (nested deeper than the shape)");
                }
                accept(p, t);
            } else {
                if (t != JsonToken.START_ARRAY) {
                    throw ragged(
                            index,
                            depth,
                            describe(t) + " where a list of " + shape[depth + 1] + " belongs");
                }
                readNested(p, depth + 1, p.nextToken(), index);
            }
            index[depth]++;
        }
        if (index[depth] != shape[depth]) {
            throw ragged(index, depth, index[depth] + " entries instead of " + shape[depth]);
        }
    }

    private InvalidBatchException ragged(long[] index, int depth, String problem) {
        StringBuilder path = new StringBuilder("data");
        for (int d = 0; d < depth; d++) {
            path.append('[').append(index[d]).append(']');
        }
        return new InvalidBatchException(
                "JSON 'data' does not match shape "
                        + Arrays.toString(shape)
                        + ": "
                        + path
                        + " has "
                        + problem);
    }

    private void accept(JsonParser p, JsonToken t) throws InvalidBatchException, IOException {
        if (count == numel) {
            throw new InvalidBatchException(
                    "JSON 'data' holds more than the "
                            + numel
                            + " values shape "
                            + Arrays.toString(shape)
                            + " needs");
        }
        chunk[fill++] = scalar(p, t, "data");
        count++;
        if (fill == chunk.length) {
            reducer.accept(chunk, 0, fill);
            fill = 0;
        }
    }

    /** A number read as a double and rounded to float32, or one of the three non-finite strings. */
    static float scalar(JsonParser p, JsonToken t, String field)
            throws InvalidBatchException, IOException {
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
            return (float) p.getDoubleValue();
        }
        if (t == JsonToken.VALUE_STRING) {
            Float nonFinite = FloatJson.nonFiniteValue(p.getText());
            if (nonFinite == null) {
                throw new InvalidBatchException(
                        "JSON '"
                                + field
                                + "' holds the string \""
                                + Reasons.excerpt(p.getText())
                                + "\" (only numbers and \"NaN\", \"Infinity\", \"-Infinity\" are"
                                + " allowed)");
            }
            return nonFinite;
        }
        throw new InvalidBatchException(
                "JSON '" + field + "' holds " + describe(t) + " where a number belongs");
    }

    static String describe(JsonToken t) {
        if (t == null) {
            return "nothing";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "a list";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.asString() == null ? t.name() : "'" + t.asString() + "'";
        };
    }

    private static InvalidBatchException duplicate(String key) {
        return new InvalidBatchException("JSON batch has key '" + key + "' twice");
    }

    private static InvalidBatchException mixed() {
        return new InvalidBatchException(
                "JSON batch mixes tensor keys ('shape', 'data') with stats keys ('min', 'max')");
    }
}
