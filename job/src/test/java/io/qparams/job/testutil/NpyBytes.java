package io.qparams.job.testutil;

import io.qparams.connectors.batch.NpyWriter;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Hand-made NPY records with any header dict text, for the malformed ones numpy would never write.
 */
public final class NpyBytes {
    private NpyBytes() {}

    /**
     * Magic, version {@code major}.0, the header length and {@code dict} padded as numpy pads it,
     * then data.
     */
    public static byte[] npy(int major, String dict, byte[] data) {
        return NpyWriter.withHeader(major, dict, data);
    }

    /**
     * An NPY record of dtype {@code descr} with shape {@code shape} (Python tuple text) and these
     * data bytes.
     */
    public static byte[] npy(String descr, String shape, byte[] data) {
        return npy(
                1,
                "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }",
                data);
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
