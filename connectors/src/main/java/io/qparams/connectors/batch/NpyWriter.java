package io.qparams.connectors.batch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes NPY bytes as {@code numpy.save} does: float32 arrays (format 1.0, little-endian, C order)
 * for the demo producer and tests, and records with any header dict text for tests of what numpy
 * would never write.
 */
public final class NpyWriter {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private NpyWriter() {}

    /** The bytes of {@code numpy.save(f, np.asarray(values, dtype='<f4').reshape(shape))}. */
    public static byte[] float32(long[] shape, float[] values) {
        long numel = 1;
        for (long d : shape) {
            numel *= d;
        }
        if (numel != values.length) {
            throw new IllegalArgumentException(
                    "shape holds " + numel + " values, got " + values.length);
        }
        ByteBuffer data = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        return withHeader(1, dict("<f4", shape), data.array());
    }

    /**
     * numpy's header dict for a C-order array: {@code {'descr': '<f4', 'fortran_order': False,
     * 'shape': (2, 3), }}.
     */
    private static String dict(String descr, long[] shape) {
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            dims.append(shape[i])
                    .append(shape.length == 1 ? "," : i + 1 < shape.length ? ", " : "");
        }
        dims.append(")");
        return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
    }

    /**
     * Magic, version {@code major}.0, the header length (2 bytes in 1.0, 4 after), the header dict
     * text padded with spaces and a newline to a multiple of 64 bytes as numpy pads it (UTF-8 in
     * 3.0, Latin-1 before), then the data bytes as given.
     */
    public static byte[] withHeader(int major, String dict, byte[] data) {
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] dictBytes =
                dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int unpadded = MAGIC.length + lengthBytes + dictBytes.length + 1;
        int padding = (64 - unpadded % 64) % 64;
        int headerLength = dictBytes.length + padding + 1;
        ByteBuffer out =
                ByteBuffer.allocate(MAGIC.length + lengthBytes + headerLength + data.length)
                        .order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC, 0, 6).put((byte) major).put((byte) 0);
        if (major == 1) {
            out.putShort((short) headerLength);
        } else {
            out.putInt(headerLength);
        }
        out.put(dictBytes)
                .put(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII))
                .put((byte) '\n')
                .put(data);
        return out.array();
    }
}
