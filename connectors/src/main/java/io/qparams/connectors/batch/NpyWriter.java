package io.qparams.connectors.batch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes float32 arrays as {@code numpy.save} does (format 1.0, little-endian, C order), for the
 * demo producer and for tests that need real NPY bytes from Java.
 */
public final class NpyWriter {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private NpyWriter() {
    }

    /** The bytes of {@code numpy.save(f, np.asarray(values, dtype='<f4').reshape(shape))}. */
    public static byte[] float32(long[] shape, float[] values) {
        long numel = 1;
        for (long d : shape) {
            numel *= d;
        }
        if (numel != values.length) {
            throw new IllegalArgumentException("shape holds " + numel + " values, got " + values.length);
        }
        byte[] header = header("<f4", shape);
        ByteBuffer out = ByteBuffer.allocate(header.length + 4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(header);
        out.asFloatBuffer().put(values);
        return out.array();
    }

    /** Magic, version 1.0, header length and the header dict padded with spaces to a multiple of 64. */
    private static byte[] header(String descr, long[] shape) {
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            dims.append(shape[i]).append(shape.length == 1 ? "," : i + 1 < shape.length ? ", " : "");
        }
        dims.append(")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
        int unpadded = MAGIC.length + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String text = dict + " ".repeat(padding) + "\n";
        ByteBuffer header = ByteBuffer.allocate(MAGIC.length + 2 + text.length()).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putShort((short) text.length()).put(text.getBytes(StandardCharsets.US_ASCII));
        return header.array();
    }
}
