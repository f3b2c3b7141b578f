package io.qparams.connectors.batch;

import io.qparams.observers.InvalidBatchException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The subset of Python literal syntax ({@code ast.literal_eval}) an NPY header dict uses: dicts
 * with string keys, single- or double-quoted strings without escapes, integers (an old {@code L}
 * suffix allowed), floats, True/False/None, tuples ({@code ()}, {@code (5,)}, {@code (2, 3)}) and
 * lists. Tuples parse to {@link Tuple}, lists to {@link ArrayList}, dicts to {@link LinkedHashMap}.
 */
final class PyLiteral {
    private static final int MAX_DEPTH = 16;

    /** A Python tuple (numpy requires 'shape' to be one, not a list). */
    static final class Tuple extends ArrayList<Object> {
        private static final long serialVersionUID = 1L;

        @Override
        public String toString() {
            String items = super.toString();
            return "(" + items.substring(1, items.length() - 1) + (size() == 1 ? ",)" : ")");
        }
    }

    private final String text;
    private int pos;

    private PyLiteral(String text) {
        this.text = text;
    }

    /** Parses one literal filling {@code text} (surrounding whitespace allowed). */
    static Object parse(String text) throws InvalidBatchException {
        PyLiteral p = new PyLiteral(text);
        Object value = p.value(0);
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("unexpected content after the dict");
        }
        return value;
    }

    private Object value(int depth) throws InvalidBatchException {
        if (depth > MAX_DEPTH) {
            throw error("nested too deeply");
        }
        skipSpace();
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> dict(depth);
            case '(' -> sequence(')', depth);
            case '[' -> sequence(']', depth);
            case '\'', '"' -> string(c);
            default ->
                    c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') ? number() : name();
        };
    }

    private Map<String, Object> dict(int depth) throws InvalidBatchException {
        pos++; // '{'
        Map<String, Object> dict = new LinkedHashMap<>();
        while (true) {
            skipSpace();
            if (peek() == '}') {
                pos++;
                return dict;
            }
            if (!(value(depth + 1) instanceof String key)) {
                throw error("dict keys must be strings");
            }
            skipSpace();
            expect(':');
            if (dict.containsKey(key)) {
                throw error("duplicate key '" + key + "'");
            }
            dict.put(key, value(depth + 1));
            skipSpace();
            if (peek() == ',') {
                pos++;
            } else if (peek() != '}') {
                throw error("expected ',' or '}'");
            }
        }
    }

    /** A tuple or list; {@code (x)} without a comma is just x, as in Python. */
    private Object sequence(char close, int depth) throws InvalidBatchException {
        pos++; // '(' or '['
        List<Object> items = close == ')' ? new Tuple() : new ArrayList<>();
        boolean sawComma = false;
        while (true) {
            skipSpace();
            if (peek() == close) {
                pos++;
                break;
            }
            items.add(value(depth + 1));
            skipSpace();
            if (peek() == ',') {
                pos++;
                sawComma = true;
            } else if (peek() != close) {
                throw error("expected ',' or '" + close + "'");
            }
        }
        if (close == ')' && items.size() == 1 && !sawComma) {
            return items.get(0);
        }
        return items;
    }

    private String string(char quote) throws InvalidBatchException {
        int start = ++pos;
        while (pos < text.length() && text.charAt(pos) != quote) {
            char c = text.charAt(pos);
            if (c == '\\') {
                throw error("escape sequences in strings are not supported");
            }
            if (c == '\n') {
                throw error("unterminated string");
            }
            pos++;
        }
        if (pos >= text.length()) {
            throw error("unterminated string");
        }
        return text.substring(start, pos++);
    }

    /** An int (as Long, refused when it overflows) or a float (as Double). */
    private Object number() throws InvalidBatchException {
        int start = pos;
        boolean isFloat = false;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c >= '0' && c <= '9'
                    || ((c == '-' || c == '+') && (pos == start || isExponent(pos - 1)))) {
                pos++;
            } else if (c == '.' || c == 'e' || c == 'E') {
                isFloat = true;
                pos++;
            } else {
                break;
            }
        }
        String token = text.substring(start, pos);
        try {
            if (isFloat) {
                return Double.parseDouble(token);
            }
            long value = Long.parseLong(token.startsWith("+") ? token.substring(1) : token);
            if (pos < text.length() && (text.charAt(pos) == 'L' || text.charAt(pos) == 'l')) {
                pos++; // Python 2's long suffix, as numpy's _filter_header drops it
            }
            return value;
        } catch (NumberFormatException e) {
            pos = start;
            boolean digits = token.matches("[-+]?[0-9]+");
            throw error(
                    digits
                            ? "integer '" + token + "' is too large"
                            : "malformed number '" + token + "'");
        }
    }

    private boolean isExponent(int i) {
        char c = text.charAt(i);
        return c == 'e' || c == 'E';
    }

    private Object name() throws InvalidBatchException {
        int start = pos;
        while (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) {
            pos++;
        }
        String word = text.substring(start, pos);
        return switch (word) {
            case "True" -> Boolean.TRUE;
            case "False" -> Boolean.FALSE;
            case "None" -> null;
            default -> {
                pos = start;
                throw error(
                        word.isEmpty()
                                ? "unexpected '" + text.charAt(pos) + "'"
                                : "unexpected name '" + word + "'");
            }
        };
    }

    private void skipSpace() {
        while (pos < text.length()
                && (text.charAt(pos) == ' '
                        || text.charAt(pos) == '\n'
                        || text.charAt(pos) == '\t'
                        || text.charAt(pos) == '\r')) {
            pos++;
        }
    }

    private char peek() throws InvalidBatchException {
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        return text.charAt(pos);
    }

    private void expect(char c) throws InvalidBatchException {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private InvalidBatchException error(String problem) {
        return new InvalidBatchException(
                "NPY header is not a valid Python dict literal: " + problem + " at offset " + pos);
    }
}
