package io.qparams.connectors.records;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * A reusable byte buffer that compact UTF-8 JSON is written into, token by token, with the bytes
 * Jackson's generator writes for the same tokens (no spaces; strings escaped as Jackson escapes
 * them). The caller writes the commas and colons: it knows the record's fixed field order. {@link
 * #toByteArray} copies the result out; {@link #reset} starts the next one in the same buffer, so a
 * record costs one allocation.
 *
 * <p>Not thread-safe: one per encoder, one encoder per task.
 */
final class JsonBytes {
    private static final JsonFactory FACTORY = JsonFactory.builder().build();

    private byte[] buf;
    private int len;

    JsonBytes(int initialCapacity) {
        buf = new byte[initialCapacity];
    }

    void reset() {
        len = 0;
    }

    int length() {
        return len;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    /** Room for {@code n} more bytes. */
    private void ensure(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        }
    }

    JsonBytes raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
        return this;
    }

    JsonBytes raw(char c) {
        ensure(1);
        buf[len++] = (byte) c;
        return this;
    }

    /** Text known to be ASCII without anything to escape: numbers, field names, constants. */
    JsonBytes ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    /**
     * A JSON string: quoted, escaped as Jackson's generator escapes it. Printable ASCII is copied;
     * anything else (rare in tensor names) goes through a generator, whose escaping differs from
     * Jackson's other encoders in places (it writes a character outside the BMP as two backslash-u
     * escapes, JsonStringEncoder as its UTF-8 bytes).
     */
    JsonBytes string(String s) {
        if (!isPlain(s)) {
            return raw(generated(s));
        }
        raw('"');
        ascii(s);
        return raw('"');
    }

    private static byte[] generated(String s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length() * 2 + 8);
        try (JsonGenerator g = FACTORY.createGenerator(bytes)) {
            g.writeString(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    /** Printable ASCII without {@code "} or {@code \}: written as it is. */
    static boolean isPlain(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    /** A whole number in decimal, as {@link Long#toString} writes it. */
    JsonBytes number(long v) {
        if (v < 0 || v >= 1_000_000_000_000_000_000L) {
            return ascii(Long.toString(v));
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        ensure(digits);
        for (int i = len + digits - 1; i >= len; i--) {
            buf[i] = (byte) ('0' + (int) (v % 10));
            v /= 10;
        }
        len += digits;
        return this;
    }

    /** A float32 as {@link FloatJson} writes it: a number, or "NaN"/"Infinity"/"-Infinity". */
    JsonBytes floatValue(float f) {
        // Most floats of a record: their text written in place, no String (ShortestFloat32).
        ensure(ShortestFloat32.MAX_CHARS);
        int end = ShortestFloat32.write(f, buf, len);
        if (end >= 0) {
            len = end;
            return this;
        }
        String number = FloatJson.number(f);
        return number != null ? ascii(number) : string(FloatJson.nonFinite(f));
    }
}
