package io.qparams.export;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.connectors.records.QParamsRecordDecoder;
import io.qparams.connectors.records.QParamsRecordEncoder;
import io.qparams.connectors.records.RecordSource;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.ObserverState;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Records as the job writes them, for the export tests: the production observers (torch-exact by
 * the golden tests of the observers module) over random batch ranges, encoded by the job's encoder
 * and read back as a consumer reads them.
 */
public final class TestRecords {
    private TestRecords() {}

    /**
     * Every valid combination of observer, dtype, qscheme and reduce_range (one averaging
     * constant).
     */
    public static List<ObserverSpec> specs() {
        List<ObserverSpec> specs = new ArrayList<>();
        for (ObserverKind kind : ObserverKind.values()) {
            for (QuantDtype dtype : QuantDtype.values()) {
                for (QScheme qscheme : QScheme.values()) {
                    for (boolean reduce : new boolean[] {false, true}) {
                        try {
                            ObserverSpec.Builder b =
                                    ObserverSpec.builder(kind)
                                            .dtype(dtype)
                                            .qscheme(qscheme)
                                            .reduceRange(reduce);
                            specs.add(b.build());
                        } catch (RuntimeException refused) {
                            // not a combination torch accepts
                        }
                    }
                }
            }
        }
        return specs;
    }

    /** One record of tensor {@code tensor}: the spec's observer after 1-3 random batches. */
    public static ExportEntry record(String tensor, ObserverSpec spec, Random random) {
        try {
            return recordOrThrow(tensor, spec, random);
        } catch (InvalidBatchException e) {
            throw new IllegalStateException("a batch the test made is refused", e);
        }
    }

    private static ExportEntry recordOrThrow(String tensor, ObserverSpec spec, Random random)
            throws InvalidBatchException {
        Observer observer = new Observer(spec);
        ObserverState state = observer.initialState();
        int channels = spec.isPerChannel() ? 1 + random.nextInt(6) : 1;
        for (int b = 0, batches = 1 + random.nextInt(3); b < batches; b++) {
            float[] min = new float[channels];
            float[] max = new float[channels];
            for (int c = 0; c < channels; c++) {
                float x = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(6) - 3));
                float y = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(6) - 3));
                min[c] = Math.min(x, y);
                max[c] = Math.max(x, y);
            }
            observer.update(
                    state,
                    spec.isPerChannel()
                            ? BatchMinMax.perChannel(min, max)
                            : BatchMinMax.perTensor(min[0], max[0]));
        }
        return entry(
                new QParamsRecordEncoder()
                        .encode(
                                tensor,
                                spec,
                                state,
                                observer.calculateQParams(state),
                                RecordSource.kafka("qparams", 0, random.nextInt(1000))));
    }

    /** A record of the given range, applied as one batch. */
    public static ExportEntry record(String tensor, ObserverSpec spec, float min, float max) {
        Observer observer = new Observer(spec);
        ObserverState state = observer.initialState();
        try {
            observer.update(state, BatchMinMax.perTensor(min, max));
        } catch (InvalidBatchException e) {
            throw new IllegalStateException("a batch the test made is refused", e);
        }
        return entry(
                new QParamsRecordEncoder()
                        .encode(
                                tensor,
                                spec,
                                state,
                                observer.calculateQParams(state),
                                RecordSource.file("batches.npy", 0)));
    }

    public static ExportEntry entry(byte[] json) {
        try {
            QParamsRecord r = QParamsRecordDecoder.read(json);
            return new ExportEntry(r.tensor(), r, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ObserverSpec spec(ObserverKind kind, QuantDtype dtype, QScheme qscheme) {
        return ObserverSpec.builder(kind).dtype(dtype).qscheme(qscheme).build();
    }
}
