package io.qparams.cli;

import io.qparams.connectors.records.JsonValues;
import io.qparams.connectors.records.QParamsRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qparams calibrate} against real torch: the fixtures (numpy.save files, a manifest
 * interleaving tensors, and torch's results as float32 hex bits) come from
 * src/test/resources/calibrate/generate_calibrate_fixtures.py.
 */
class CalibrateCommandTest {
    private static final Path FIXTURES = Path.of("src/test/resources/calibrate");

    @Test
    void manifestReproducesTorchBitForBit() throws IOException {
        CliRun result =
                calibrate(
                        "--config",
                        FIXTURES.resolve("observers.yaml").toString(),
                        "--manifest",
                        FIXTURES.resolve("manifest.jsonl").toString());
        assertEquals(0, result.status(), result.err());
        List<Map<String, Object>> expected = expected();
        List<QParamsRecord> records = result.records();
        assertEquals(expected.size(), records.size(), "one record per non-empty batch");
        for (int i = 0; i < records.size(); i++) {
            assertMatchesTorch(expected.get(i), records.get(i));
            assertEquals(
                    ((Number) expected.get(i).get("index")).longValue(),
                    records.get(i).source().index());
        }
    }

    @Test
    void tensorFormAppliesFilesInTheOrderGiven() throws IOException {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "--config",
                                FIXTURES.resolve("observers.yaml").toString(),
                                "--tensor",
                                "fc.output"));
        List<Map<String, Object>> expected = new ArrayList<>();
        for (Map<String, Object> entry : expected()) {
            if (entry.get("tensor").equals("fc.output")) {
                expected.add(entry);
            }
        }
        for (String line : Files.readAllLines(FIXTURES.resolve("manifest.jsonl"))) {
            Map<?, ?> entry = (Map<?, ?>) JsonValues.parse(line.getBytes(StandardCharsets.UTF_8));
            if (entry.get("tensor").equals("fc.output")) {
                args.add(FIXTURES.resolve((String) entry.get("file")).toString());
            }
        }
        CliRun result = calibrate(args.toArray(String[]::new));
        assertEquals(0, result.status(), result.err());
        List<QParamsRecord> records = result.records();
        assertEquals(expected.size(), records.size());
        for (int i = 0; i < records.size(); i++) {
            assertMatchesTorch(expected.get(i), records.get(i));
            assertEquals(i + 1, records.get(i).batches());
        }
    }

    @Test
    void aBadBatchIsReportedAndTheRestGoesOn(@TempDir Path dir) throws IOException {
        Path good = FIXTURES.resolve("b000_fc_output.npy");
        Path bad = Files.write(dir.resolve("bad.npy"), new byte[] {(byte) 0x93, 'N', 'U', 'M'});
        CliRun result =
                calibrate("--tensor", "x", good.toString(), bad.toString(), good.toString());
        assertEquals(1, result.status());
        assertEquals(2, result.records().size());
        assertEquals(2, result.records().get(1).batches());
        assertEquals(2, result.records().get(1).source().index());
        assertTrue(result.err().contains(bad + " (tensor x, index 1): "), result.err());
        assertTrue(result.err().contains("1 of 3 batches refused"), result.err());
    }

    @Test
    void driftRulesMarkTheRecordsAndEachEpisodesEventGoesToStderr(@TempDir Path dir)
            throws IOException {
        Path config =
                Files.writeString(
                        dir.resolve("drift.yaml"),
                        "observers: [{match: \"*\", observer: MinMaxObserver}]\n"
                                + "drift: [{match: \"*\", window: 1, threshold: 0.1}]\n");
        List<String> args =
                new ArrayList<>(List.of("--config", config.toString(), "--tensor", "x"));
        float[] maxima = {1, 1.5f, 1.55f, 3};
        for (int i = 0; i < maxima.length; i++) {
            args.add(
                    Files.writeString(
                                    dir.resolve("b" + i + ".json"),
                                    "{\"min\": 0, \"max\": " + maxima[i] + "}")
                            .toString());
        }
        CliRun result = calibrate(args.toArray(String[]::new));
        assertEquals(0, result.status(), result.err());
        List<String> lines = result.out().lines().toList();
        assertFalse(lines.get(0).contains("\"drift\""), "batch 1 has nothing to compare with");
        assertTrue(lines.get(1).contains("\"drift\":true,\"drift_ratio\":"), lines.get(1));
        java.util.regex.Matcher ratio =
                java.util.regex.Pattern.compile("\"drift_ratio\":([^,]+),").matcher(lines.get(1));
        assertTrue(ratio.find());
        assertEquals(0.5, Float.parseFloat(ratio.group(1)), 1e-6, "1.5/255 against 1/255");
        assertTrue(lines.get(2).contains("\"drift\":false,"), lines.get(2));
        assertTrue(lines.get(3).contains("\"drift\":true,"), lines.get(3));
        List<String> events = result.err().lines().filter(l -> l.contains("drift event")).toList();
        assertEquals(2, events.size(), result.err());
        assertTrue(
                events.get(0)
                        .startsWith(
                                "qparams calibrate: drift event:"
                                    + " {\"tensor\":\"x\",\"event\":\"drift\",\"reason\":\"scale"
                                    + " moved by 50.0% over 1 batches"),
                events.get(0));
    }

    @Test
    void aBadConfigExitsTwoWithTorchsReasonOnOneLine(@TempDir Path dir) throws IOException {
        Path config =
                Files.writeString(
                        dir.resolve("bad.yaml"),
                        String.join(
                                "\n",
                                "observers:",
                                "  - match: \"*\"",
                                "    observer: MinMaxObserver",
                                "    qscheme: per_tensor_symmetric",
                                "    reduce_range: true",
                                ""));
        CliRun result =
                calibrate(
                        "--config",
                        config.toString(),
                        "--tensor",
                        "x",
                        FIXTURES.resolve("b000_fc_output.npy").toString());
        assertEquals(2, result.status());
        assertEquals("", result.out());
        assertEquals(1, result.err().strip().lines().count(), result.err());
        assertTrue(
                result.err().contains("Cannot reduce range for symmetric quantization for quint8"),
                result.err());
    }

    @Test
    void aMissingFileExitsTwoBeforeAnyRecord() {
        CliRun result =
                calibrate(
                        "--tensor",
                        "x",
                        FIXTURES.resolve("b000_fc_output.npy").toString(),
                        "nope.npy");
        assertEquals(2, result.status());
        assertEquals("", result.out());
        assertEquals("qparams calibrate: batch file not found: nope.npy", result.err().strip());
    }

    @Test
    void badCommandLinesExitTwo() {
        assertEquals(2, calibrate().status());
        assertEquals(2, calibrate("--tensor").status());
        assertEquals(2, calibrate("--tensor", "x").status());
        assertEquals(2, calibrate("--bogus").status());
        assertEquals(2, calibrate("--manifest", "m.jsonl", "--tensor", "x", "f.npy").status());
        assertEquals(0, calibrate("--help").status());
    }

    private static void assertMatchesTorch(Map<String, Object> expected, QParamsRecord record) {
        String where =
                "record of batch " + expected.get("index") + " (" + expected.get("tensor") + ")";
        assertEquals(expected.get("tensor"), record.tensor(), where);
        assertTrue(record.isOk(), where);
        assertBits(expected.get("min_val"), record.minVal(), where + " min_val");
        assertBits(expected.get("max_val"), record.maxVal(), where + " max_val");
        assertBits(expected.get("scale"), record.scale(), where + " scale");
        List<?> zeroPoint = (List<?>) expected.get("zero_point");
        assertEquals(zeroPoint.size(), record.zeroPoint().length, where + " zero_point");
        for (int i = 0; i < zeroPoint.size(); i++) {
            assertEquals(
                    ((Number) zeroPoint.get(i)).longValue(),
                    record.zeroPoint()[i],
                    where + " zero_point[" + i + "]");
        }
    }

    private static void assertBits(Object expectedHex, float[] actual, String what) {
        List<?> hex = (List<?>) expectedHex;
        assertEquals(hex.size(), actual.length, what);
        for (int i = 0; i < hex.size(); i++) {
            float want = Float.intBitsToFloat(Integer.parseUnsignedInt((String) hex.get(i), 16));
            // Zeros compare with == (torch's sign of a zero result is not predictable); all else by
            // bits.
            boolean same =
                    want == 0f
                            ? actual[i] == 0f
                            : Float.floatToIntBits(want) == Float.floatToIntBits(actual[i]);
            assertTrue(
                    same,
                    what
                            + "["
                            + i
                            + "]: torch "
                            + hex.get(i)
                            + ", qparams "
                            + Integer.toHexString(Float.floatToRawIntBits(actual[i])));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> expected() throws IOException {
        List<Map<String, Object>> entries = new ArrayList<>();
        List<String> lines = Files.readAllLines(FIXTURES.resolve("expected.jsonl"));
        for (String line : lines.subList(1, lines.size())) { // line 1: torch and numpy versions
            entries.add(
                    (Map<String, Object>) JsonValues.parse(line.getBytes(StandardCharsets.UTF_8)));
        }
        assertFalse(entries.isEmpty());
        return entries;
    }

    private static CliRun calibrate(String... args) {
        return CliRun.of("calibrate", args);
    }
}
