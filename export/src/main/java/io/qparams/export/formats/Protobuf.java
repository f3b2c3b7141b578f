package io.qparams.export.formats;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The protobuf wire format, as much as editing an ONNX model takes: a message is read into its
 * fields in order (number, wire type, and the varint or the bytes), unknown ones kept as they are,
 * and written back the same way. Nothing is interpreted that the onnx export does not touch, so
 * every other part of the model passes through byte for byte.
 */
final class Protobuf {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private Protobuf() {}

    /** One field of a message: a varint (or fixed value, in {@code value}) or bytes. */
    record Field(int number, int wireType, long value, byte[] bytes) {
        static Field varint(int number, long value) {
            return new Field(number, VARINT, value, null);
        }

        static Field bytes(int number, byte[] bytes) {
            return new Field(number, LENGTH_DELIMITED, 0, bytes);
        }

        static Field string(int number, String s) {
            return bytes(number, s.getBytes(StandardCharsets.UTF_8));
        }

        static Field message(int number, List<Field> fields) {
            return bytes(number, write(fields));
        }

        String string() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    static List<Field> read(byte[] message) throws IOException {
        List<Field> fields = new ArrayList<>();
        int[] at = {0};
        while (at[0] < message.length) {
            long tag = varint(message, at);
            int number = (int) (tag >>> 3);
            int wireType = (int) (tag & 7);
            switch (wireType) {
                case VARINT -> fields.add(new Field(number, VARINT, varint(message, at), null));
                case FIXED64 -> {
                    fields.add(new Field(number, FIXED64, fixed(message, at, 8), null));
                }
                case FIXED32 -> {
                    fields.add(new Field(number, FIXED32, fixed(message, at, 4), null));
                }
                case LENGTH_DELIMITED -> {
                    long length = varint(message, at);
                    if (length < 0 || at[0] + length > message.length) {
                        throw new IOException("a field runs past the end of its message");
                    }
                    byte[] bytes = new byte[(int) length];
                    System.arraycopy(message, at[0], bytes, 0, bytes.length);
                    at[0] += bytes.length;
                    fields.add(new Field(number, LENGTH_DELIMITED, 0, bytes));
                }
                default -> throw new IOException("wire type " + wireType + " is not protobuf 3's");
            }
        }
        return fields;
    }

    static byte[] write(List<Field> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Field f : fields) {
            writeVarint(out, ((long) f.number() << 3) | f.wireType());
            switch (f.wireType()) {
                case VARINT -> writeVarint(out, f.value());
                case FIXED64 -> writeFixed(out, f.value(), 8);
                case FIXED32 -> writeFixed(out, f.value(), 4);
                default -> {
                    writeVarint(out, f.bytes().length);
                    out.writeBytes(f.bytes());
                }
            }
        }
        return out.toByteArray();
    }

    private static long varint(byte[] b, int[] at) throws IOException {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at[0] >= b.length) {
                throw new IOException("a varint runs past the end of its message");
            }
            int x = b[at[0]++] & 0xff;
            value |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) {
                return value;
            }
        }
        throw new IOException("a varint of more than 10 bytes");
    }

    private static long fixed(byte[] b, int[] at, int n) throws IOException {
        if (at[0] + n > b.length) {
            throw new IOException("a fixed field runs past the end of its message");
        }
        long value = 0;
        for (int i = 0; i < n; i++) {
            value |= (long) (b[at[0]++] & 0xff) << (8 * i);
        }
        return value;
    }

    private static void writeVarint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7fL) != 0) {
            out.write((int) ((value & 0x7f) | 0x80));
            value >>>= 7;
        }
        out.write((int) value);
    }

    private static void writeFixed(ByteArrayOutputStream out, long value, int n) {
        for (int i = 0; i < n; i++) {
            out.write((int) (value >>> (8 * i)));
        }
    }
}
