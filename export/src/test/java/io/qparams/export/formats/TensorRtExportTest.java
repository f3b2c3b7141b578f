package io.qparams.export.formats;

import io.qparams.connectors.records.JsonValues;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.Exporter;
import io.qparams.export.LatestRecords;
import io.qparams.export.TensorSelection;
import io.qparams.export.TestRecords;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tensorrt cache: the golden vector 3c010204 = 1/127, the goldens' torch records against the
 * values torch itself computes, and amax / 127 of many production-observer records; per-channel
 * records skipped with a note, an affine zero point refused with nothing written.
 */
class TensorRtExportTest {
    @TempDir Path dir;

    @Test
    void oneOver127IsTheGoldenVector() {
        // TensorRT's own caches hold 3c010204 for a tensor of range [-1, 1]: float32 1/127.
        assertEquals("3c010204", TensorRtExport.hex(-1f, 1f));
        assertEquals(Float.floatToIntBits(1f / 127f), Integer.parseUnsignedInt("3c010204", 16));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theGoldensRecordsGiveTheValuesTorchComputes() throws Exception {
        // torch observers' records of the onnx goldens; expected.json holds, for those TensorRT
        // can take, torch's own float32 max(-min_val, max_val) / 127 (generate_onnx_goldens.py).
        Path goldens = OnnxExportTest.GOLDENS;
        Map<String, Object> torch =
                (Map<String, Object>)
                        ((Map<String, Object>)
                                        JsonValues.parse(
                                                Files.readAllBytes(
                                                        goldens.resolve("expected.json"))))
                                .get("tensorrt");
        assertEquals(
                List.of("fc.output", "relu.output"), List.copyOf(new TreeMap<>(torch).keySet()));
        List<ExportEntry> entries =
                TensorSelection.of(List.copyOf(torch.keySet()), null)
                        .select(
                                LatestRecords.fromFile(goldens.resolve("records.jsonl")),
                                System.err);
        Path out = dir.resolve("goldens.cache");
        Exporter.export(
                new TensorRtExport(TensorRtExport.DEFAULT_HEADER), entries, out, System.err);
        List<String> want = new ArrayList<>(List.of(TensorRtExport.DEFAULT_HEADER));
        new TreeMap<>(torch).forEach((name, hex) -> want.add(name + ": " + hex));
        assertEquals(want, Files.readAllLines(out));
    }

    @Test
    void everyLineIsAmaxOver127OfItsRecord() throws Exception {
        Random random = new Random(7);
        List<ExportEntry> entries = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            QScheme scheme =
                    random.nextBoolean() ? QScheme.per_tensor_symmetric : QScheme.per_tensor_affine;
            ObserverSpec spec =
                    TestRecords.spec(
                            ObserverKind.MovingAverageMinMaxObserver, QuantDtype.qint8, scheme);
            ExportEntry e = TestRecords.record(String.format("t%03d", i), spec, random);
            if (scheme == QScheme.per_tensor_symmetric || e.record().zeroPoint()[0] == 0) {
                entries.add(e);
            }
        }
        ExportEntry golden =
                TestRecords.record(
                        "golden",
                        TestRecords.spec(
                                ObserverKind.MinMaxObserver,
                                QuantDtype.qint8,
                                QScheme.per_tensor_symmetric),
                        -1f,
                        1f);
        entries.add(golden);
        Path out = dir.resolve("model.cache");
        Exporter.export(
                new TensorRtExport(TensorRtExport.DEFAULT_HEADER), entries, out, System.err);
        List<String> lines = Files.readAllLines(out);
        assertEquals("TRT-100300-EntropyCalibration2", lines.get(0));
        assertEquals(entries.size() + 1, lines.size());
        for (int i = 0; i < entries.size(); i++) {
            ExportEntry e = entries.get(i);
            String[] parts = lines.get(i + 1).split(": ");
            assertEquals(e.name(), parts[0]);
            float scale = Float.intBitsToFloat(Integer.parseUnsignedInt(parts[1], 16));
            float amax = Math.max(-e.record().minVal()[0], e.record().maxVal()[0]);
            assertEquals(Float.floatToIntBits(amax / 127f), Float.floatToIntBits(scale), e.name());
        }
        assertTrue(lines.contains("golden: 3c010204"));
    }

    @Test
    void perChannelRecordsAreSkippedWithANote() throws Exception {
        Random random = new Random(8);
        ExportEntry perTensor =
                TestRecords.record(
                        "act",
                        TestRecords.spec(
                                ObserverKind.MinMaxObserver,
                                QuantDtype.qint8,
                                QScheme.per_tensor_symmetric),
                        random);
        ExportEntry perChannel =
                TestRecords.record(
                        "conv.weight",
                        TestRecords.spec(
                                ObserverKind.PerChannelMinMaxObserver,
                                QuantDtype.qint8,
                                QScheme.per_channel_symmetric),
                        random);
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        Path out = dir.resolve("c.cache");
        Exporter.export(
                new TensorRtExport("TRT-8601-MinMaxCalibration"),
                List.of(perTensor, perChannel),
                out,
                new PrintStream(notes, true, StandardCharsets.UTF_8));
        List<String> lines = Files.readAllLines(out);
        assertEquals(
                List.of(
                        "TRT-8601-MinMaxCalibration",
                        "act: "
                                + TensorRtExport.hex(
                                        perTensor.record().minVal()[0],
                                        perTensor.record().maxVal()[0])),
                lines);
        assertTrue(
                notes.toString(StandardCharsets.UTF_8).contains("skipped 1 per-channel"),
                notes.toString());
    }

    @Test
    void anAsymmetricZeroPointIsRefusedAndNothingIsWritten() throws Exception {
        ExportEntry affine =
                TestRecords.record(
                        "relu6.output",
                        TestRecords.spec(
                                ObserverKind.MinMaxObserver,
                                QuantDtype.quint8,
                                QScheme.per_tensor_affine),
                        -1f,
                        6f);
        assertTrue(affine.record().zeroPoint()[0] != 0);
        Path out = dir.resolve("refused.cache");
        ExportException e =
                assertThrows(
                        ExportException.class,
                        () ->
                                Exporter.export(
                                        new TensorRtExport(TensorRtExport.DEFAULT_HEADER),
                                        List.of(affine),
                                        out,
                                        System.err));
        assertTrue(
                e.getMessage()
                        .startsWith("tensor 'relu6.output': per_tensor_affine with zero_point"),
                e.getMessage());
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no staging file left behind");
        }
    }

    @Test
    void aBadHeaderIsRefused() {
        assertThrows(ExportException.class, () -> new TensorRtExport("TensorRT 10"));
    }
}
