package io.qparams.connectors.batch;

import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static io.qparams.connectors.batch.Fixtures.f4;
import static io.qparams.connectors.batch.Fixtures.npy;
import static io.qparams.connectors.batch.Fixtures.perChannel;
import static io.qparams.connectors.batch.Fixtures.perTensor;
import static io.qparams.connectors.batch.Fixtures.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Decoding paths beyond the numpy fixtures: chunk boundaries, header spellings, JSON forms,
 * sniffing.
 */
class BatchDecoderTest {
    private final BatchDecoder decoder = new BatchDecoder();

    /**
     * A [rows, cols] tensor larger than the chunk, in C or Fortran memory order, against a plain
     * reduction.
     */
    @ParameterizedTest
    @ValueSource(strings = {"<f4", ">f4", "<f8", ">i2", "<u4", "<f2"})
    void largeTensorsAcrossChunkBoundaries(String descr) throws InvalidBatchException {
        int rows = 7;
        int cols = 3001; // 21007 elements: several 8192-float chunks, runs crossing chunk ends
        Random random = new Random(descr.hashCode());
        float[][] x = new float[rows][cols];
        for (boolean fortran : new boolean[] {false, true}) {
            ByteBuffer data =
                    ByteBuffer.allocate(rows * cols * itemSize(descr))
                            .order(
                                    descr.charAt(0) == '>'
                                            ? ByteOrder.BIG_ENDIAN
                                            : ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < rows * cols; k++) {
                int r = fortran ? k % rows : k / cols;
                int c = fortran ? k / rows : k % cols;
                x[r][c] = put(data, descr, random);
            }
            byte[] value =
                    npy(
                            1,
                            "{'descr': '"
                                    + descr
                                    + "', 'fortran_order': "
                                    + (fortran ? "True" : "False")
                                    + ", 'shape': ("
                                    + rows
                                    + ", "
                                    + cols
                                    + "), }",
                            data.array());
            float[] rowMin = new float[rows];
            float[] rowMax = new float[rows];
            float[] colMin = new float[cols];
            float[] colMax = new float[cols];
            Arrays.fill(rowMin, Float.POSITIVE_INFINITY);
            Arrays.fill(rowMax, Float.NEGATIVE_INFINITY);
            Arrays.fill(colMin, Float.POSITIVE_INFINITY);
            Arrays.fill(colMax, Float.NEGATIVE_INFINITY);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    rowMin[r] = Math.min(rowMin[r], x[r][c]);
                    rowMax[r] = Math.max(rowMax[r], x[r][c]);
                    colMin[c] = Math.min(colMin[c], x[r][c]);
                    colMax[c] = Math.max(colMax[c], x[r][c]);
                }
            }
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (int r = 0; r < rows; r++) {
                min = Math.min(min, rowMin[r]);
                max = Math.max(max, rowMax[r]);
            }
            assertEquals(
                    BatchMinMax.perTensor(min, max),
                    decoder.decode(value, null, perTensor(), NonFinitePolicy.REJECT));
            assertEquals(
                    BatchMinMax.perChannel(rowMin, rowMax),
                    decoder.decode(value, null, perChannel(0), NonFinitePolicy.REJECT));
            assertEquals(
                    BatchMinMax.perChannel(colMin, colMax),
                    decoder.decode(value, null, perChannel(-1), NonFinitePolicy.REJECT));
        }
    }

    private static int itemSize(String descr) {
        return Integer.parseInt(descr.substring(2));
    }

    private static float put(ByteBuffer data, String descr, Random random) {
        switch (descr.substring(1)) {
            case "f4":
                {
                    float v = (float) random.nextGaussian() * 100;
                    data.putFloat(v);
                    return v;
                }
            case "f8":
                {
                    double v = random.nextGaussian() * 1e3;
                    data.putDouble(v);
                    return (float) v;
                }
            case "i2":
                {
                    short v = (short) random.nextInt();
                    data.putShort(v);
                    return v;
                }
            case "u4":
                {
                    int v = random.nextInt();
                    data.putInt(v);
                    return (float) Integer.toUnsignedLong(v);
                }
            default:
                { // f2: small integers are exact halves
                    int v = random.nextInt(4001) - 2000;
                    data.putShort(smallIntToFloat16(v));
                    return v;
                }
        }
    }

    /** binary16 bits of an integer of magnitude below 2048 (exact). */
    private static short smallIntToFloat16(int v) {
        if (v == 0) {
            return 0;
        }
        int abs = Math.abs(v);
        int e = 31 - Integer.numberOfLeadingZeros(abs);
        int mantissa = ((abs << 10) >> e) & 0x3ff;
        return (short) ((v < 0 ? 0x8000 : 0) | (e + 15) << 10 | mantissa);
    }

    @Test
    void headerSpellingsNumpyAccepts() throws InvalidBatchException {
        byte[] two = f4(-1.5f, 2);
        BatchMinMax expected = BatchMinMax.perTensor(-1.5f, 2);
        for (String dict :
                new String[] {
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                    "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}",
                    "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
                    "{'descr':'<f4','fortran_order':False,'shape':(2L,)}",
                    "{ 'descr' : '=f4' ,\n 'fortran_order' : False ,\t'shape' : ( 2 , ) }",
                    "{'descr': 'f4', 'fortran_order': False, 'shape': (1, 2)}",
                    "{'descr': '|f4', 'fortran_order': True, 'shape': (2, 1)}"
                }) {
            for (int version = 1; version <= 3; version++) {
                assertEquals(
                        expected,
                        decoder.decode(
                                npy(version, dict, two), null, perTensor(), NonFinitePolicy.REJECT),
                        dict);
            }
        }
        byte[] scalar =
                npy(
                        1,
                        "{'descr': '>f4', 'fortran_order': False, 'shape': ()}",
                        new byte[] {0x40, 0x49, 0x0f, (byte) 0xdb});
        assertEquals(
                BatchMinMax.perTensor((float) Math.PI, (float) Math.PI),
                decoder.decode(scalar, "application/x-npy", perTensor(), NonFinitePolicy.REJECT));
        byte[] empty =
                npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 0, 2)}", new byte[0]);
        assertNull(decoder.decode(empty, null, perChannel(5), NonFinitePolicy.REJECT));
    }

    @Test
    void jsonTensorForms() throws InvalidBatchException {
        BatchMinMax expected = BatchMinMax.perTensor(-2, 5.5f);
        for (String json :
                new String[] {
                    "{\"shape\": [2, 2], \"data\": [[1, -2], [5.5, 0]]}",
                    "{\"shape\": [2, 2], \"data\": [1, -2, 5.5, 0]}",
                    "{\"data\": [[1, -2], [5.5, 0]], \"shape\": [2, 2]}",
                    "{\"data\": [1, -2, 5.5, 0], \"shape\": [4]}",
                    " \n{\"shape\": [1, 2, 2], \"data\": [[[1, -2], [5.5, 0]]]}\n",
                    "{\"shape\": [2, 2], \"data\": [1e0, -2.0, 55e-1, -0.0]}"
                }) {
            assertEquals(
                    expected,
                    decoder.decode(utf8(json), null, perTensor(), NonFinitePolicy.REJECT),
                    json);
        }
        assertEquals(
                BatchMinMax.perChannel(new float[] {-2, 0}, new float[] {1, 5.5f}),
                decoder.decode(
                        utf8("{\"data\": [[1, -2], [5.5, 0]], \"shape\": [2, 2]}"),
                        null,
                        perChannel(0),
                        NonFinitePolicy.REJECT));
        BatchMinMax three = BatchMinMax.perTensor(3, 3);
        assertEquals(
                three,
                decoder.decode(
                        utf8("{\"shape\": [], \"data\": 3}"),
                        null,
                        perTensor(),
                        NonFinitePolicy.REJECT));
        assertEquals(
                three,
                decoder.decode(
                        utf8("{\"shape\": [], \"data\": [3]}"),
                        null,
                        perTensor(),
                        NonFinitePolicy.REJECT));
        for (String empty :
                new String[] {
                    "{\"shape\": [0], \"data\": []}",
                    "{\"shape\": [2, 0], \"data\": []}",
                    "{\"shape\": [2, 0], \"data\": [[], []]}",
                    "{\"data\": [], \"shape\": [0, 5]}"
                }) {
            assertNull(
                    decoder.decode(utf8(empty), null, perChannel(1), NonFinitePolicy.REJECT),
                    empty);
        }
    }

    @Test
    void jsonNonFiniteUnderEachPolicy() throws InvalidBatchException {
        byte[] value =
                utf8(
                        "{\"shape\": [2, 3], \"data\": [[1, \"NaN\", 2], [\"-Infinity\", 4,"
                                + " \"Infinity\"]]}");
        BatchMinMax propagated =
                decoder.decode(value, null, perChannel(0), NonFinitePolicy.PROPAGATE);
        assertEquals(Float.NaN, propagated.min(0));
        assertEquals(Float.NaN, propagated.max(0));
        assertEquals(Float.NEGATIVE_INFINITY, propagated.min(1));
        assertEquals(Float.POSITIVE_INFINITY, propagated.max(1));
        assertEquals(
                BatchMinMax.perChannel(new float[] {1, 4}, new float[] {2, 4}),
                decoder.decode(value, null, perChannel(0), NonFinitePolicy.IGNORE));
        assertEquals(
                BatchMinMax.perTensor(1, 4),
                decoder.decode(value, null, perTensor(), NonFinitePolicy.IGNORE));
    }

    @Test
    void largeJsonAcrossChunkBoundaries() throws InvalidBatchException {
        int rows = 3;
        int cols = 5000;
        StringBuilder nested = new StringBuilder("{\"data\": [");
        float[] rowMin = new float[rows];
        float[] rowMax = new float[rows];
        Random random = new Random(7);
        for (int r = 0; r < rows; r++) {
            rowMin[r] = Float.POSITIVE_INFINITY;
            rowMax[r] = Float.NEGATIVE_INFINITY;
            nested.append(r == 0 ? "[" : ", [");
            for (int c = 0; c < cols; c++) {
                double v = random.nextGaussian();
                nested.append(c == 0 ? "" : ",").append(v);
                rowMin[r] = Math.min(rowMin[r], (float) v);
                rowMax[r] = Math.max(rowMax[r], (float) v);
            }
            nested.append("]");
        }
        nested.append("], \"shape\": [3, 5000]}");
        assertEquals(
                BatchMinMax.perChannel(rowMin, rowMax),
                decoder.decode(
                        utf8(nested.toString()),
                        "application/json",
                        perChannel(0),
                        NonFinitePolicy.REJECT));
    }

    @Test
    void jsonStats() throws InvalidBatchException {
        assertEquals(
                BatchMinMax.perTensor(-1.5f, 2),
                decoder.decode(
                        utf8("{\"min\": -1.5, \"max\": 2.0}"),
                        null,
                        perTensor(),
                        NonFinitePolicy.REJECT));
        assertEquals(
                BatchMinMax.perTensor(0.1f, 0.1f),
                decoder.decode(
                        utf8("{\"max\": 0.1, \"min\": 0.1}"),
                        null,
                        perTensor(),
                        NonFinitePolicy.REJECT));
        assertEquals(
                BatchMinMax.perChannel(new float[] {-1, 0}, new float[] {1, 3}),
                decoder.decode(
                        utf8("{\"min\": [-1, 0], \"max\": [1, 3]}"),
                        null,
                        perChannel(0),
                        NonFinitePolicy.REJECT));
        BatchMinMax nan =
                decoder.decode(
                        utf8("{\"min\": \"NaN\", \"max\": \"Infinity\"}"),
                        null,
                        perTensor(),
                        NonFinitePolicy.PROPAGATE);
        assertEquals(Float.NaN, nan.min(0));
        assertEquals(Float.POSITIVE_INFINITY, nan.max(0));
    }

    @Test
    void contentTypeAndSniffing() throws InvalidBatchException {
        byte[] value = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", f4(1, 2));
        BatchMinMax expected = BatchMinMax.perTensor(1, 2);
        for (String contentType :
                new String[] {
                    null, "application/x-npy", "APPLICATION/X-NPY", "application/octet-stream", ""
                }) {
            assertEquals(
                    expected,
                    decoder.decode(value, contentType, perTensor(), NonFinitePolicy.REJECT));
        }
        byte[] json = utf8("{\"min\": 1, \"max\": 2}");
        for (String contentType :
                new String[] {
                    null, "application/json", "application/json; charset=utf-8", "text/plain"
                }) {
            assertEquals(
                    expected,
                    decoder.decode(json, contentType, perTensor(), NonFinitePolicy.REJECT));
        }
    }

    @Test
    void resultsDoNotAliasTheChunkBuffer() throws InvalidBatchException {
        byte[] first =
                npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}", f4(1, 2, 3, 4));
        byte[] second =
                npy(
                        1,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}",
                        f4(-1, -2, -3, -4));
        BatchMinMax a = decoder.decode(first, null, perChannel(0), NonFinitePolicy.REJECT);
        decoder.decode(second, null, perChannel(0), NonFinitePolicy.REJECT);
        assertArrayEquals(new float[] {1, 3}, a.min());
        assertArrayEquals(new float[] {2, 4}, a.max());
    }
}
