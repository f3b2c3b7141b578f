package io.qparams.job.testutil;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Hand-made NPY records with any header dict text, for the malformed ones numpy would never write. */
public final class NpyBytes {
    private NpyBytes() {
    }

    /** Magic, version {@code major}.0, the header length and {@code dict} padded as numpy pads it, then data. */
    public static byte[] npy(int major, String dict, byte[] data) {
        int lengthBytes = major == 1 ? 2 : 4;
        int unpadded = 8 + lengthBytes + dict.getBytes(StandardCharsets.UTF_8).length + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        byte[] text = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        ByteBuffer length = ByteBuffer.allocate(lengthBytes).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) {
            length.putShort((short) text.length);
        } else {
            length.putInt(text.length);
        }
        out.writeBytes(length.array());
        out.writeBytes(text);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** An NPY record of dtype {@code descr} with shape {@code shape} (Python tuple text) and these data bytes. */
    public static byte[] npy(String descr, String shape, byte[] data) {
        return npy(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", data);
    }

    /** Little-endian float32 bytes. */
    public static byte[] f4(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
