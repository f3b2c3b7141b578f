package io.qparams.connectors.batch;

import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StatsJsonTest {
    private final BatchDecoder decoder = new BatchDecoder();

    @Test
    void encodedStatsDecodeToTheSameBits() throws InvalidBatchException {
        ObserverSpec perTensor = ObserverSpec.builder(ObserverKind.MinMaxObserver).build();
        ObserverSpec perChannel =
                ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver).build();
        Random random = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            float a = Float.intBitsToFloat(random.nextInt());
            float b = Float.intBitsToFloat(random.nextInt());
            if (!(Float.isFinite(a) && Float.isFinite(b))) {
                continue;
            }
            BatchMinMax scalar = BatchMinMax.perTensor(Math.min(a, b), Math.max(a, b));
            assertEquals(
                    scalar,
                    decoder.decode(
                            StatsJson.encode(scalar),
                            StatsJson.CONTENT_TYPE,
                            perTensor,
                            NonFinitePolicy.REJECT));
            BatchMinMax vector =
                    BatchMinMax.perChannel(
                            new float[] {Math.min(a, b), -0.0f, Float.MIN_VALUE},
                            new float[] {Math.max(a, b), 0.0f, Float.MIN_VALUE});
            assertEquals(
                    vector,
                    decoder.decode(
                            StatsJson.encode(vector),
                            StatsJson.CONTENT_TYPE,
                            perChannel,
                            NonFinitePolicy.REJECT));
        }
    }

    @Test
    void nonFiniteValuesAreTheContractsStrings() throws InvalidBatchException {
        BatchMinMax batch =
                BatchMinMax.perChannel(
                        new float[] {Float.NEGATIVE_INFINITY, Float.NaN},
                        new float[] {Float.POSITIVE_INFINITY, Float.NaN});
        assertEquals(
                "{\"min\": [\"-Infinity\", \"NaN\"], \"max\": [\"Infinity\", \"NaN\"]}",
                new String(StatsJson.encode(batch), java.nio.charset.StandardCharsets.UTF_8));
        ObserverSpec perChannel =
                ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver).build();
        BatchMinMax back =
                decoder.decode(
                        StatsJson.encode(batch), null, perChannel, NonFinitePolicy.PROPAGATE);
        assertEquals(batch, back);
    }
}
