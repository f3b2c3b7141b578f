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

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The records' bytes did not change when the encoder stopped using Jackson's generator: {@link
 * QParamsRecordEncoder} and the former encoder ({@link JacksonRecordEncoder}, float text from
 * {@link FloatJson#slowNumber}) give the same bytes for random records of every observer, dtype and
 * qscheme, per-tensor and per-channel, valid and invalid, with odd tensor names and both sources.
 */
class RecordBytesUnchangedTest {
    private static final String[] NAMES = {
        "encoder.layer.0.output",
        "",
        "we\"ird\\name",
        "tab\there\nnewline\r\b\f\u0001\u001f",
        "ä€漢字",
        "emoji \uD83D\uDE00 pair",
        "del\u007f",
        "slash/ok",
        "    ",
        "\u00a0nbsp"
    };

    @Test
    void randomRecordsEncodeToTheSameBytes() throws Exception {
        Random random = new Random(20261202);
        List<ObserverSpec> specs = specs();
        assertTrue(specs.size() > 20, "specs: " + specs.size());
        QParamsRecordEncoder encoder = new QParamsRecordEncoder(); // reused, as in a task
        int perChannel = 0;
        int invalid = 0;
        for (int i = 0; i < 20_000; i++) {
            ObserverSpec spec = specs.get(random.nextInt(specs.size()));
            Observer observer = new Observer(spec);
            ObserverState state = observer.initialState();
            int channels = 1 + random.nextInt(spec.isPerChannel() ? 40 : 1);
            for (int b = 0, batches = random.nextInt(4); b < batches; b++) {
                float[] min = new float[channels];
                float[] max = new float[channels];
                for (int c = 0; c < channels; c++) {
                    float x = randomFloat(random);
                    float y = randomFloat(random);
                    min[c] = Math.min(x, y);
                    max[c] = Math.max(x, y);
                    if (random.nextInt(50) == 0) {
                        min[c] = Float.NaN;
                    }
                }
                observer.update(
                        state,
                        spec.isPerChannel()
                                ? BatchMinMax.perChannel(min, max)
                                : BatchMinMax.perTensor(min[0], max[0]));
            }
            QParams qparams = observer.calculateQParams(state);
            perChannel += spec.isPerChannel() ? 1 : 0;
            invalid += qparams.isValid() ? 0 : 1;
            String tensor = NAMES[random.nextInt(NAMES.length)] + (random.nextBoolean() ? i : "");
            RecordSource source =
                    random.nextBoolean()
                            ? RecordSource.kafka(
                                    NAMES[random.nextInt(NAMES.length)],
                                    random.nextInt(64),
                                    random.nextLong() >>> random.nextInt(64))
                            : RecordSource.file("batches/" + tensor + ".npy", random.nextInt(1000));
            byte[] expected = JacksonRecordEncoder.encode(tensor, spec, state, qparams, source);
            byte[] actual = encoder.encode(tensor, spec, state, qparams, source);
            assertEquals(
                    new String(expected, StandardCharsets.UTF_8),
                    new String(actual, StandardCharsets.UTF_8));
            assertEquals(expected.length, actual.length);
        }
        assertTrue(perChannel > 1000 && invalid > 100, perChannel + " per-channel, " + invalid);
    }

    /** Every valid combination of observer, dtype and qscheme, with a few averaging constants. */
    private static List<ObserverSpec> specs() {
        List<ObserverSpec> specs = new ArrayList<>();
        for (ObserverKind kind : ObserverKind.values()) {
            for (QuantDtype dtype : QuantDtype.values()) {
                for (QScheme qscheme : QScheme.values()) {
                    for (double c : new double[] {0.01, 0.5, 1e-7}) {
                        try {
                            ObserverSpec.Builder b =
                                    ObserverSpec.builder(kind).dtype(dtype).qscheme(qscheme);
                            if (kind.isMovingAverage()) {
                                b.averagingConstant(c);
                            }
                            specs.add(b.build());
                        } catch (RuntimeException refused) {
                            // not a combination torch accepts
                        }
                        if (!kind.isMovingAverage()) {
                            break;
                        }
                    }
                }
            }
        }
        return specs;
    }

    /** Activations of every magnitude, exact zeros, subnormals, huge values, infinities. */
    static float randomFloat(Random random) {
        return switch (random.nextInt(8)) {
            case 0 -> Float.intBitsToFloat(random.nextInt());
            case 1 -> 0f;
            case 2 ->
                    random.nextInt(100) == 0
                            ? Float.NEGATIVE_INFINITY
                            : -1e30f * random.nextFloat();
            case 3 -> Float.intBitsToFloat(random.nextInt(1 << 23)); // subnormal
            default -> (float) (random.nextGaussian() * Math.pow(10, random.nextInt(12) - 6));
        };
    }
}
