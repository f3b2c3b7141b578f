package io.qparams.job.testutil;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.StringJoiner;

/** The bytes {@code numpy.save} writes for a C-order little-endian float32 array (format 1.0). */
public final class Npy {
    private Npy() {
    }

    public static byte[] float32(long[] shape, float[] data) {
        StringJoiner dims = new StringJoiner(", ", "(", shape.length == 1 ? ",)" : ")");
        for (long d : shape) {
            dims.add(Long.toString(d));
        }
        StringBuilder header = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': ")
                .append(dims).append(", }");
        // numpy pads with spaces so that magic + version + length + header is a multiple of 64, ending in '\n'.
        int unpadded = 10 + header.length() + 1;
        header.append(" ".repeat((64 - unpadded % 64) % 64)).append('\n');
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buf = ByteBuffer.allocate(10 + headerBytes.length + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        buf.putShort((short) headerBytes.length).put(headerBytes);
        for (float v : data) {
            buf.putFloat(v);
        }
        return buf.array();
    }
}
