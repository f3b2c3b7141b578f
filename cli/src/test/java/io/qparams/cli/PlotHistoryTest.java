package io.qparams.cli;

import io.qparams.connectors.records.QParamsRecordDecoder;
import io.qparams.export.ExportEntry;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What plot draws of a history: the run since the last reset, one point per batches value. */
class PlotHistoryTest {

    /** A per-tensor record, or a per-channel one when the arrays have several values. */
    static String record(String tensor, long batches, float[] min, float[] max, float[] scale) {
        boolean perChannel = min.length > 1;
        return String.format(
                Locale.ROOT,
                "{\"tensor\":\"%s\",\"status\":\"ok\",\"observer\":\"%s\",\"dtype\":\"quint8\","
                        + "\"qscheme\":\"%s\",\"quant_min\":0,\"quant_max\":255,%s\"batches\":%d,"
                        + "\"min_val\":%s,\"max_val\":%s,\"scale\":%s,\"zero_point\":%s,"
                        + "\"source\":{\"file\":\"b.npy\",\"index\":%d}}",
                tensor.replace("\\", "\\\\").replace("\"", "\\\""),
                perChannel ? "PerChannelMinMaxObserver" : "MinMaxObserver",
                perChannel ? "per_channel_affine" : "per_tensor_affine",
                perChannel ? "\"ch_axis\":1," : "",
                batches,
                json(min, perChannel),
                json(max, perChannel),
                json(scale, perChannel),
                perChannel ? "[" + "0,".repeat(min.length - 1) + "0]" : "0",
                batches);
    }

    private static String json(float[] values, boolean list) {
        if (!list) {
            return Float.toString(values[0]);
        }
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            b.append(i == 0 ? "" : ",").append(values[i]);
        }
        return b.append(']').toString();
    }

    static String perTensor(String tensor, long batches, float min, float max, float scale) {
        return record(tensor, batches, new float[] {min}, new float[] {max}, new float[] {scale});
    }

    static void feed(PlotHistory history, List<String> lines) throws Exception {
        for (String line : lines) {
            byte[] json = line.getBytes(StandardCharsets.UTF_8);
            history.record(
                    new ExportEntry(
                            QParamsRecordDecoder.read(json).tensor(),
                            QParamsRecordDecoder.read(json),
                            json),
                    0,
                    -1);
        }
    }

    @Test
    void theRunSinceTheLastResetOnePointPerBatchesValue() throws Exception {
        PlotHistory history = new PlotHistory(t -> !t.equals("other"));
        feed(
                history,
                List.of(
                        perTensor("t", 1, -1, 1, 0.1f),
                        perTensor("t", 2, -2, 2, 0.2f),
                        perTensor("other", 1, -1, 1, 0.1f),
                        perTensor("t", 3, -3, 3, 0.3f),
                        // a reset: batches starts again at 1
                        perTensor("t", 1, -4, 4, 0.4f),
                        perTensor("t", 2, -5, 5, 0.5f),
                        // a replay after a failure: batches 2 again, the last one wins
                        perTensor("t", 2, -6, 6, 0.6f),
                        perTensor("t", 3, -7, 7, 0.7f)));
        assertEquals(List.of("t"), List.copyOf(history.runs().keySet()));
        assertEquals(List.of("other", "t"), List.copyOf(history.seen()));
        assertEquals(8, history.records());
        PlotHistory.Run run = history.runs().get("t");
        assertEquals(1, run.earlierRuns());
        assertEquals(List.of(1L, 2L, 3L), List.copyOf(run.points().keySet()));
        assertArrayEquals(new float[] {-4}, run.points().get(1L).minVal());
        assertArrayEquals(new float[] {6}, run.points().get(2L).maxVal());
        assertArrayEquals(new float[] {0.7f}, run.points().get(3L).scale());
        assertEquals(1, run.channels());
        history.tombstone("t", 0);
        assertNull(history.runs().get("t"));
    }

    @Test
    void perChannelPointsKeepEveryChannel() throws Exception {
        PlotHistory history = new PlotHistory(t -> true);
        feed(
                history,
                List.of(
                        record(
                                "conv",
                                1,
                                new float[] {-1, -2, -3},
                                new float[] {1, 2, 3},
                                new float[] {0.1f, 0.2f, 0.3f})));
        PlotHistory.Run run = history.runs().get("conv");
        assertEquals(3, run.channels());
        assertArrayEquals(new float[] {1, 2, 3}, run.points().get(1L).maxVal());
    }
}
