package io.qparams.connectors.config;

import io.qparams.observers.InvalidObserverConfigException;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * Reading the config file's YAML values (SafeConstructor's maps, lists and scalars) with one-line
 * refusals that say what was expected and what came: shared by the observer and the drift rules.
 */
final class ConfigValues {
    private ConfigValues() {}

    static void checkKeys(Map<?, ?> map, List<String> known, String where) {
        for (Object key : map.keySet()) {
            if (!(key instanceof String) || !known.contains(key)) {
                throw new InvalidObserverConfigException(
                        where
                                + ": unknown key '"
                                + key
                                + "' (expected "
                                + String.join(", ", known)
                                + ")");
            }
        }
    }

    static String string(Object value, String key) {
        if (!(value instanceof String text)) {
            throw new InvalidObserverConfigException(
                    "'" + key + "' must be a string, got " + describe(value));
        }
        return text;
    }

    /** A YAML integer in int32 range, or null (torch's None). */
    static Integer optionalInt(Object value, String key) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof Integer || value instanceof Long || value instanceof BigInteger)) {
            throw new InvalidObserverConfigException(
                    "'" + key + "' must be an integer, got " + describe(value));
        }
        BigInteger big = new BigInteger(value.toString());
        if (big.bitLength() > 31) {
            throw new InvalidObserverConfigException(
                    "'" + key + "' " + value + " is outside the int32 range");
        }
        return big.intValue();
    }

    /** A YAML number (ints allowed), as a Python float. */
    static double number(Object value, String key) {
        if (!(value instanceof Number number)) {
            throw new InvalidObserverConfigException(
                    "'" + key + "' must be a number, got " + describe(value));
        }
        return number.doubleValue();
    }

    static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        String kind =
                value instanceof String
                        ? "string"
                        : value instanceof Boolean
                                ? "boolean"
                                : value instanceof Double
                                        ? "float"
                                        : value instanceof Number
                                                ? "integer"
                                                : value instanceof List
                                                        ? "list"
                                                        : value instanceof Map
                                                                ? "mapping"
                                                                : value.getClass().getSimpleName();
        String text = value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
        return kind + " " + (text.length() > 60 ? text.substring(0, 60) + "..." : text);
    }

    interface ConfigStep<T> {
        T run();
    }

    /** Runs a step whose refusals carry torch's bare reason, prefixing them with the location. */
    static <T> T within(String where, ConfigStep<T> step) {
        try {
            return step.run();
        } catch (InvalidObserverConfigException e) {
            throw new InvalidObserverConfigException(where + ": " + e.getMessage());
        }
    }
}
