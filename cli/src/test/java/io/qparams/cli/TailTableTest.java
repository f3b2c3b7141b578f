package io.qparams.cli;

import io.qparams.connectors.records.QParamsRecordDecoder;
import io.qparams.export.ExportEntry;
import io.qparams.export.LatestRecords;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table tail draws, from known records: its cells, its fitting to the screen. */
class TailTableTest {
    private static final long NOW = 1_000_000_000L;
    private static final String LONG_NAME =
            "encoder.layers.11.self_attention.output_projection.activation_post_process.output";

    static String perTensor(String tensor, long batches, String extra) {
        return "{\"tensor\":\""
                + tensor
                + "\",\"status\":\"ok\",\"observer\":\"MovingAverageMinMaxObserver\","
                + "\"dtype\":\"quint8\",\"qscheme\":\"per_tensor_affine\",\"quant_min\":0,"
                + "\"quant_max\":255,\"averaging_constant\":0.01,\"batches\":"
                + batches
                + ",\"min_val\":-3.5406811,\"max_val\":3.4330976,\"scale\":0.027348,"
                + "\"zero_point\":129,\"source\":{\"topic\":\"activations\",\"partition\":0,"
                + "\"offset\":7}"
                + extra
                + "}";
    }

    static final String PER_CHANNEL =
            "{\"tensor\":\"conv.output\",\"status\":\"ok\","
                    + "\"observer\":\"PerChannelMinMaxObserver\",\"dtype\":\"qint8\","
                    + "\"qscheme\":\"per_channel_symmetric\",\"quant_min\":-128,\"quant_max\":127,"
                    + "\"ch_axis\":1,\"batches\":4,\"min_val\":[-1.0,-6.5,-0.25],"
                    + "\"max_val\":[1.0,-3.0,8.0],\"scale\":[0.0078125,0.05,0.0625],"
                    + "\"zero_point\":[0,0,0],\"source\":{\"file\":\"b.npy\",\"index\":3}}";

    static final String INVALID =
            "{\"tensor\":\"empty.output\",\"status\":\"invalid\",\"reason\":\"no data\","
                + "\"observer\":\"MinMaxObserver\",\"dtype\":\"quint8\","
                + "\"qscheme\":\"per_tensor_affine\",\"quant_min\":0,\"quant_max\":255,"
                + "\"batches\":0,\"min_val\":\"Infinity\",\"max_val\":\"-Infinity\","
                + "\"scale\":null,\"zero_point\":null,\"source\":{\"file\":\"e.npy\",\"index\":0}}";

    private static void add(LatestRecords table, String json, long timestamp) throws Exception {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        table.record(
                new ExportEntry(
                        QParamsRecordDecoder.read(bytes).tensor(),
                        QParamsRecordDecoder.read(bytes),
                        bytes),
                0,
                timestamp);
    }

    private static LatestRecords table() throws Exception {
        LatestRecords table = new LatestRecords();
        add(table, perTensor("fc.output", 41, ""), NOW - 65_000);
        add(table, perTensor("fc.output", 42, ""), NOW - 3_000);
        add(table, PER_CHANNEL, NOW - 7_200_000);
        add(table, perTensor(LONG_NAME, 9, ",\"drift\":true,\"drift_ratio\":0.3125"), NOW);
        add(table, INVALID, NOW - 12_000);
        return table;
    }

    private static String row(List<String> lines, String start) {
        return lines.stream().filter(l -> l.startsWith(start)).findFirst().orElseThrow();
    }

    @Test
    void oneRowPerTensorInNameOrderWithItsLatestRecord() throws Exception {
        List<String> lines = TailTable.lines("title", table(), NOW, 120, 30);
        assertEquals("title", lines.get(0));
        assertEquals(
                "TENSOR BATCHES MIN MAX SCALE ZP CHANNELS DRIFT AGE",
                lines.get(1).replaceAll(" +", " "));
        assertEquals(6, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(2).startsWith("conv.output"), lines.get(2));
        assertTrue(lines.get(3).startsWith("empty.output"), lines.get(3));
        assertTrue(lines.get(4).startsWith("encoder.layers"), lines.get(4));
        assertTrue(lines.get(5).startsWith("fc.output"), lines.get(5));
        assertEquals(
                "fc.output 42 -3.541 3.433 0.02735 129 3s",
                row(lines, "fc.output").replaceAll(" +", " "));
        // Per channel: the widest channel (2: 8.25 wide) and the channel count.
        assertEquals(
                "conv.output 4 -0.2500 8.000 0.06250 0 3, widest 2 2h",
                row(lines, "conv.output").replaceAll(" +", " "));
        assertEquals(
                "empty.output 0 inf -inf invalid - 12s",
                row(lines, "empty.output").replaceAll(" +", " "));
        String drifting = row(lines, "encoder.layers");
        assertTrue(drifting.contains(" * 0.31 "), drifting);
        assertTrue(drifting.endsWith(" 0s"), drifting);
        for (String line : lines) {
            assertTrue(line.length() < 120, line);
        }
    }

    @Test
    void aNarrowScreenDropsColumnsThenCutsLongNamesInTheMiddle() throws Exception {
        List<String> lines = TailTable.lines("title", table(), NOW, 80, 30);
        assertFalse(lines.get(1).contains("CHANNELS"), lines.get(1));
        assertTrue(lines.get(1).contains("ZP"), lines.get(1));
        String drifting = row(lines, "encoder.");
        String shown = drifting.substring(0, drifting.indexOf(' '));
        assertTrue(shown.contains("..."), shown);
        assertTrue(shown.endsWith(".output"), shown);
        assertEquals(TailTable.fit(LONG_NAME, shown.length()), shown);
        for (String line : lines) {
            assertTrue(line.length() < 80, line.length() + ": " + line);
        }
        lines = TailTable.lines("title", table(), NOW, 40, 30);
        assertFalse(lines.get(1).contains("ZP") || lines.get(1).contains("AGE"), lines.get(1));
        for (String line : lines) {
            assertTrue(line.length() < 40, line);
        }
    }

    @Test
    void moreTensorsThanRowsEndWithACount() throws Exception {
        LatestRecords table = new LatestRecords();
        for (int i = 0; i < 20; i++) {
            add(table, perTensor(String.format("t%02d", i), i + 1, ""), NOW);
        }
        List<String> lines = TailTable.lines("title", table, NOW, 100, 10);
        assertEquals(9, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(7).startsWith("t05 "), lines.get(7));
        assertTrue(lines.get(8).startsWith("... 14 more tensors"), lines.get(8));
    }

    @Test
    void namesCutInTheMiddleKeepBothEnds() {
        assertEquals("short", TailTable.fit("short", 10));
        assertEquals("abcd...xyz", TailTable.fit("abcdefghijklmnopqrstuvwxyz", 10));
        assertEquals(10, TailTable.fit("abcdefghijklmnopqrstuvwxyz", 10).length());
    }
}
