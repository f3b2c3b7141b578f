package io.qparams.connectors.batch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** NpyWriter writes the very bytes numpy.save writes (the fixtures come from real numpy). */
class NpyWriterTest {

    @Test
    void float32MatchesNumpySaveByteForByte() throws IOException {
        for (String name :
                new String[] {
                    "f4_le_C_3x4.npy", "f4_le_C_2x3x4.npy", "f4_le_C_5.npy", "f4_le_C_0d.npy"
                }) {
            byte[] numpy = fixture(name);
            long[] shape =
                    name.contains("3x4")
                            ? (name.contains("2x3x4") ? new long[] {2, 3, 4} : new long[] {3, 4})
                            : name.contains("_5") ? new long[] {5} : new long[0];
            int headerEnd = numpy.length - 4 * (int) numel(shape);
            float[] values = new float[(int) numel(shape)];
            ByteBuffer.wrap(numpy, headerEnd, numpy.length - headerEnd)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer()
                    .get(values);
            assertArrayEquals(numpy, NpyWriter.float32(shape, values), name);
        }
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = NpyWriterTest.class.getResourceAsStream("/npy/" + name)) {
            return in.readAllBytes();
        }
    }
}
