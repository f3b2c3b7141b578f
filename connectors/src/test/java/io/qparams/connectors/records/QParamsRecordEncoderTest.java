package io.qparams.connectors.records;

import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.ObserverState;
import io.qparams.observers.QParams;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QParamsRecordEncoderTest {
    private static final RecordSource KAFKA = RecordSource.kafka("activations", 0, 1234);

    private static String encode(
            String tensor, ObserverSpec spec, ObserverState state, RecordSource source) {
        QParams qparams = new Observer(spec).calculateQParams(state);
        return new String(
                new QParamsRecordEncoder().encode(tensor, spec, state, qparams, source),
                StandardCharsets.UTF_8);
    }

    @Test
    void perTensorRecordAsInTheContract() throws IOException {
        ObserverSpec spec =
                ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver)
                        .averagingConstant(0.01)
                        .build();
        ObserverState state =
                new ObserverState(new float[] {-3.5406811f}, new float[] {3.4330976f}, 42);
        String line = encode("encoder.layer.0.output", spec, state, KAFKA);
        float scale = (3.4330976f + 3.5406811f) / 255f;
        int zeroPoint = (int) (0 - Math.rint(-3.5406811f / scale));
        assertEquals(
                "{\"tensor\":\"encoder.layer.0.output\",\"status\":\"ok\",\"observer\":\"MovingAverageMinMaxObserver\","
                    + "\"dtype\":\"quint8\",\"qscheme\":\"per_tensor_affine\",\"quant_min\":0,\"quant_max\":255,"
                    + "\"averaging_constant\":0.01,\"batches\":42,\"min_val\":-3.5406811,\"max_val\":3.4330976,"
                    + "\"scale\":"
                        + FloatJson.number(scale)
                        + ",\"zero_point\":"
                        + zeroPoint
                        + ","
                        + "\"source\":{\"topic\":\"activations\",\"partition\":0,\"offset\":1234}}",
                line);
        assertEquals(129, zeroPoint);
        QParamsRecord record = QParamsRecordDecoder.decode(line.getBytes(StandardCharsets.UTF_8));
        assertEquals(Float.floatToIntBits(scale), Float.floatToIntBits(record.scale()[0]));
        assertEquals(0.01, record.averagingConstant());
        assertNull(record.chAxis());
        assertFalse(record.perChannel());
        assertEquals(KAFKA, record.source());
    }

    @Test
    void perChannelRecordHasArraysAndChAxis() throws Exception {
        ObserverSpec spec =
                ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver)
                        .chAxis(-1)
                        .dtype(QuantDtype.qint8)
                        .qscheme(QScheme.per_channel_symmetric)
                        .build();
        Observer observer = new Observer(spec);
        ObserverState state = observer.initialState();
        observer.update(
                state, BatchMinMax.perChannel(new float[] {-1, 0, 2}, new float[] {1, 0.5f, 3}));
        String line = encode("w", spec, state, RecordSource.file("batches/w.npy", 3));
        assertTrue(
                line.startsWith(
                        "{\"tensor\":\"w\",\"status\":\"ok\",\"observer\":\"PerChannelMinMaxObserver\","
                            + "\"dtype\":\"qint8\",\"qscheme\":\"per_channel_symmetric\","
                            + "\"quant_min\":-128,\"quant_max\":127,\"ch_axis\":-1,\"batches\":1,"
                            + "\"min_val\":[-1.0,0.0,2.0],\"max_val\":[1.0,0.5,3.0],\"scale\":["),
                line);
        assertTrue(
                line.endsWith(
                        "\"zero_point\":[0,0,0],\"source\":{\"file\":\"batches/w.npy\",\"index\":3}}"),
                line);
        QParamsRecord record = QParamsRecordDecoder.decode(line.getBytes(StandardCharsets.UTF_8));
        assertEquals(-1L, record.chAxis());
        assertArrayEquals(new long[] {0, 0, 0}, record.zeroPoint());
        assertEquals(RecordSource.file("batches/w.npy", 3), record.source());
    }

    @Test
    void floatZeroPointsForFloatQParams() throws IOException {
        ObserverSpec spec =
                ObserverSpec.builder(ObserverKind.MovingAveragePerChannelMinMaxObserver)
                        .qscheme(QScheme.per_channel_affine_float_qparams)
                        .averagingConstant(0.5)
                        .build();
        ObserverState state = new ObserverState(new float[] {-1, 0}, new float[] {1, 2}, 2);
        String line = encode("t", spec, state, KAFKA);
        assertTrue(line.contains("\"averaging_constant\":0.5,\"ch_axis\":0,\"batches\":2"), line);
        QParamsRecord record = QParamsRecordDecoder.decode(line.getBytes(StandardCharsets.UTF_8));
        assertNull(record.zeroPoint());
        QParams expected = new Observer(spec).calculateQParams(state);
        assertEquals(expected.zeroPointFloat(0), record.zeroPointFloat()[0]);
        assertEquals(
                Float.floatToIntBits(expected.zeroPointFloat(1)),
                Float.floatToIntBits(record.zeroPointFloat()[1]));
        assertTrue(
                line.contains(
                        "\"zero_point\":[" + FloatJson.number(expected.zeroPointFloat(0)) + ","),
                line);
    }

    @Test
    void invalidStateGivesReasonAndNulls() throws IOException {
        ObserverSpec spec = ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
        ObserverState state =
                new ObserverState(
                        new float[] {Float.NaN}, new float[] {Float.POSITIVE_INFINITY}, 7);
        String line = encode("t", spec, state, KAFKA);
        assertTrue(
                line.startsWith(
                        "{\"tensor\":\"t\",\"status\":\"invalid\",\"reason\":\"min NaN should be"
                                + " less than max Infinity\",\"observer\":\"MinMaxObserver\""),
                line);
        assertTrue(
                line.contains(
                        "\"batches\":7,\"min_val\":\"NaN\",\"max_val\":\"Infinity\",\"scale\":null,"
                                + "\"zero_point\":null,\"source\""),
                line);
        assertFalse(line.contains("averaging_constant"));
        QParamsRecord record = QParamsRecordDecoder.decode(line.getBytes(StandardCharsets.UTF_8));
        assertFalse(record.isOk());
        assertNull(record.scale());
        assertTrue(Float.isNaN(record.minVal()[0]));
    }

    @Test
    void tensorNamesAreEscapedAndTheRecordIsOneLine() throws IOException {
        ObserverSpec spec = ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
        String name = "we\"ird\nname\\ä\u0001";
        byte[] bytes =
                new QParamsRecordEncoder()
                        .encode(
                                name,
                                spec,
                                ObserverState.initial(false),
                                new Observer(spec).calculateQParams(ObserverState.initial(false)),
                                KAFKA);
        String line = new String(bytes, StandardCharsets.UTF_8);
        assertFalse(line.contains("\n"));
        assertEquals(name, QParamsRecordDecoder.decode(bytes).tensor());
        assertTrue(
                line.contains(
                        "\"min_val\":\"Infinity\",\"max_val\":\"-Infinity\",\"scale\":1.0,\"zero_point\":0"),
                line);
    }

    @Test
    void decoderRefusesOtherOrders() {
        byte[] reordered =
                ("{\"status\":\"ok\",\"tensor\":\"t\"}").getBytes(StandardCharsets.UTF_8);
        assertThrows(IOException.class, () -> QParamsRecordDecoder.decode(reordered));
    }

    /**
     * Random float bits of every kind: the number written, read as a double and cast, is the same
     * float.
     */
    @Test
    void everyFloatRoundTrips() throws IOException {
        Random random = new Random(11);
        int shortForms = 0;
        for (int i = 0; i < 400_000; i++) {
            int bits =
                    i < 1000
                            ? i
                            : i < 2000
                                    ? 0x7f7fffff - i
                                    : random.nextInt(); // subnormals and the top too
            float f = Float.intBitsToFloat(bits);
            if (!Float.isFinite(f)) {
                assertNull(FloatJson.number(f));
                continue;
            }
            String text = FloatJson.number(f);
            assertEquals(bits, Float.floatToRawIntBits((float) Double.parseDouble(text)), text);
            if (text.equals(Float.toString(f))) {
                shortForms++;
            }
        }
        assertTrue(shortForms > 390_000, "short forms: " + shortForms);
        for (float f :
                new float[] {
                    Float.NaN,
                    Float.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY,
                    -0.0f,
                    Float.MIN_VALUE,
                    Float.MIN_NORMAL,
                    Float.MAX_VALUE
                }) {
            ObserverSpec spec = ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
            ObserverState state = new ObserverState(new float[] {f}, new float[] {f}, 1);
            QParamsRecord record =
                    QParamsRecordDecoder.decode(
                            new QParamsRecordEncoder()
                                    .encode(
                                            "t",
                                            spec,
                                            state,
                                            new Observer(spec).calculateQParams(state),
                                            KAFKA));
            assertEquals(Float.floatToIntBits(f), Float.floatToIntBits(record.minVal()[0]));
        }
    }

    /**
     * The fallback (the exact double) is always right; where Float.toString's digits do not survive
     * the double rounding it is the one used (7.038531E-26 is such a float: FloatJsonTest).
     */
    @Test
    void fallbackIsExact() {
        for (int bits = 0; bits < 0x7f800000; bits += 9973) {
            float f = Float.intBitsToFloat(bits);
            assertEquals(
                    bits, Float.floatToRawIntBits((float) Double.parseDouble(Double.toString(f))));
            String shortest = Float.toString(f);
            boolean survives =
                    Float.floatToRawIntBits((float) Double.parseDouble(shortest)) == bits;
            assertEquals(survives ? shortest : Double.toString(f), FloatJson.number(f));
        }
    }
}
