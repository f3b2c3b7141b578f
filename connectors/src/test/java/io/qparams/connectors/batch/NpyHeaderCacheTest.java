package io.qparams.connectors.batch;

import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverSpec;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.qparams.connectors.batch.Fixtures.npy;
import static io.qparams.connectors.batch.Fixtures.perChannel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The decoder remembers recent NPY headers by their bytes: a record must decode exactly as a fresh
 * decoder decodes it, whatever came before, even when headers differ in one byte.
 */
class NpyHeaderCacheTest {
    private static final ObserverSpec PER_CHANNEL = perChannel(0);

    @Test
    void headersDifferingInOneByteAreNotConfused() throws InvalidBatchException {
        byte[] data = floats(ByteOrder.LITTLE_ENDIAN, 1, -2, 3, 40, 5, -60);
        // Same length, one byte apart: memory order, byte order, one dimension.
        byte[] cOrder = record("<f4", false, "2, 3", data);
        byte[] fortran = record("<f4", true, "2, 3", data);
        byte[] bigEndian = record(">f4", false, "2, 3", data);
        byte[] transposed = record("<f4", false, "3, 2", data);
        List<byte[]> sequence = List.of(cOrder, fortran, cOrder, bigEndian, transposed, cOrder);
        BatchDecoder warm = new BatchDecoder();
        for (byte[] value : sequence) {
            assertSame(
                    new BatchDecoder().decode(value, null, PER_CHANNEL, NonFinitePolicy.PROPAGATE),
                    warm.decode(value, null, PER_CHANNEL, NonFinitePolicy.PROPAGATE));
        }
        assertArrayEquals(
                new float[] {-2, -60},
                warm.decode(cOrder, null, PER_CHANNEL, NonFinitePolicy.PROPAGATE).min());
        assertArrayEquals(
                new float[] {-2, 3, -60},
                warm.decode(transposed, null, PER_CHANNEL, NonFinitePolicy.PROPAGATE).min());
    }

    @Test
    void moreHeadersThanTheCacheHoldsStillDecodeExactly() throws InvalidBatchException {
        List<byte[]> records = new ArrayList<>();
        for (int rows = 1; rows <= NpyHeader.Cache.ENTRIES * 2 + 3; rows++) {
            float[] values = new float[rows * 2];
            for (int i = 0; i < values.length; i++) {
                values[i] = i * (i % 2 == 0 ? 1 : -1) + rows;
            }
            records.add(
                    record("<f4", false, rows + ", 2", floats(ByteOrder.LITTLE_ENDIAN, values)));
        }
        BatchDecoder warm = new BatchDecoder();
        for (int pass = 0; pass < 3; pass++) {
            for (byte[] value : records) {
                assertSame(
                        new BatchDecoder()
                                .decode(value, null, PER_CHANNEL, NonFinitePolicy.PROPAGATE),
                        warm.decode(value, null, PER_CHANNEL, NonFinitePolicy.PROPAGATE));
            }
        }
    }

    @Test
    void aTruncatedRecordAfterAGoodOneIsStillRefused() throws InvalidBatchException {
        byte[] good =
                record("<f4", false, "2, 3", floats(ByteOrder.LITTLE_ENDIAN, 1, 2, 3, 4, 5, 6));
        BatchDecoder warm = new BatchDecoder();
        warm.decode(good, null, PER_CHANNEL, NonFinitePolicy.PROPAGATE);
        byte[] truncatedHeader = Arrays.copyOf(good, 40);
        byte[] truncatedData = Arrays.copyOf(good, good.length - 4);
        for (byte[] bad : List.of(truncatedHeader, truncatedData)) {
            InvalidBatchException fresh =
                    assertThrows(
                            InvalidBatchException.class,
                            () ->
                                    new BatchDecoder()
                                            .decode(
                                                    bad,
                                                    null,
                                                    PER_CHANNEL,
                                                    NonFinitePolicy.PROPAGATE));
            InvalidBatchException cached =
                    assertThrows(
                            InvalidBatchException.class,
                            () -> warm.decode(bad, null, PER_CHANNEL, NonFinitePolicy.PROPAGATE));
            assertEquals(fresh.getMessage(), cached.getMessage());
        }
    }

    private static void assertSame(BatchMinMax expected, BatchMinMax actual) {
        assertArrayEquals(expected.min(), actual.min());
        assertArrayEquals(expected.max(), actual.max());
    }

    private static byte[] record(String descr, boolean fortran, String shape, byte[] data) {
        String dict =
                "{'descr': '"
                        + descr
                        + "', 'fortran_order': "
                        + (fortran ? "True " : "False")
                        + ", 'shape': ("
                        + shape
                        + "), }";
        byte[] bytes = data;
        if (descr.charAt(0) == '>') {
            ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer out = ByteBuffer.allocate(data.length).order(ByteOrder.BIG_ENDIAN);
            while (in.hasRemaining()) {
                out.putFloat(in.getFloat());
            }
            bytes = out.array();
        }
        return npy(1, dict, bytes);
    }

    private static byte[] floats(ByteOrder order, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(order);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
