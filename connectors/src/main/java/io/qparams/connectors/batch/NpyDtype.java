package io.qparams.connectors.batch;

import io.qparams.connectors.Reasons;
import io.qparams.observers.Casts;
import io.qparams.observers.InvalidBatchException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The NPY element types a batch may arrive in, each converted to float32 as torch's {@code
 * x.to(torch.float32)} does: round to nearest even, overflow to infinity.
 */
enum NpyDtype {
    FLOAT16("f2", 2) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = Casts.float16ToFloat(data.getShort(byteIndex + 2 * i));
            }
        }
    },
    FLOAT32("f4", 4) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = data.getFloat(byteIndex + 4 * i);
            }
        }
    },
    FLOAT64("f8", 8) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = Casts.float64ToFloat(data.getDouble(byteIndex + 8 * i));
            }
        }
    },
    INT8("i1", 1) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = data.get(byteIndex + i);
            }
        }
    },
    INT16("i2", 2) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = data.getShort(byteIndex + 2 * i);
            }
        }
    },
    INT32("i4", 4) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] =
                        data.getInt(
                                byteIndex + 4 * i); // int -> float rounds to nearest (JLS 5.1.2)
            }
        }
    },
    INT64("i8", 8) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = Casts.int64ToFloat(data.getLong(byteIndex + 8 * i));
            }
        }
    },
    UINT8("u1", 1) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = data.get(byteIndex + i) & 0xff;
            }
        }
    },
    UINT16("u2", 2) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = data.getChar(byteIndex + 2 * i);
            }
        }
    },
    UINT32("u4", 4) {
        @Override
        void toFloats(ByteBuffer data, int byteIndex, float[] out, int count) {
            for (int i = 0; i < count; i++) {
                out[i] = Casts.uint32ToFloat(data.getInt(byteIndex + 4 * i));
            }
        }
    };

    private static final String SUPPORTED = "expected float16/32/64, int8/16/32/64 or uint8/16/32";

    private final String code;
    private final int itemSize;

    NpyDtype(String code, int itemSize) {
        this.code = code;
        this.itemSize = itemSize;
    }

    int itemSize() {
        return itemSize;
    }

    /**
     * Converts {@code count} elements starting at {@code byteIndex} of {@code data} into {@code
     * out[0, count)}.
     */
    abstract void toFloats(ByteBuffer data, int byteIndex, float[] out, int count);

    /**
     * A parsed {@code descr}: the element type and the byte order its multi-byte values are stored
     * in.
     */
    static final class Descr {
        final NpyDtype dtype;
        final ByteOrder order;

        Descr(NpyDtype dtype, ByteOrder order) {
            this.dtype = dtype;
            this.order = order;
        }
    }

    /**
     * Parses a numpy type string such as {@code '<f4'}. '=' (native) and '|' (not applicable) are
     * read as little-endian: numpy's native order on every platform it ships for, and what x86/ARM
     * writers mean.
     */
    static Descr parse(String descr) throws InvalidBatchException {
        String body = descr;
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        if (!body.isEmpty() && "<>|=".indexOf(body.charAt(0)) >= 0) {
            order = body.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            body = body.substring(1);
        }
        for (NpyDtype dtype : values()) {
            if (dtype.code.equals(body)) {
                return new Descr(dtype, order);
            }
        }
        throw new InvalidBatchException(
                "NPY dtype '"
                        + Reasons.excerpt(descr)
                        + "'"
                        + describeUnsupported(body)
                        + " is not supported: "
                        + SUPPORTED);
    }

    private static String describeUnsupported(String body) {
        if (body.isEmpty()) {
            return "";
        }
        if (body.equals("u8")) {
            return " (uint64)";
        }
        return switch (body.charAt(0)) {
            case 'b', '?' -> " (bool)";
            case 'c' -> " (complex)";
            case 'O' -> " (object)";
            case 'S', 'a', 'U' -> " (string)";
            case 'V' -> " (void/structured)";
            case 'M', 'm' -> " (datetime)";
            case 'f' -> " (float of unsupported size)";
            default -> "";
        };
    }
}
