package io.qparams.export.formats;

import io.qparams.connectors.records.JsonValues;
import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.Exporter;
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
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ort-calibration folder: its four files as ONNX Runtime's write_calibration_table and
 * TensorQuantOverrides lay them out, the flatbuffers file decoded by the real flatc (Debian's
 * flatbuffers-compiler, which CI installs) with ORT's schema.
 */
class OrtCalibrationExportTest {
    @TempDir Path dir;

    private static List<ExportEntry> records() {
        Random random = new Random(5);
        List<ExportEntry> entries = new ArrayList<>();
        QuantDtype[] dtypes = {
            QuantDtype.quint8, QuantDtype.qint8, QuantDtype.uint16, QuantDtype.int16
        };
        for (int i = 0; i < 40; i++) {
            QuantDtype dtype = dtypes[i % dtypes.length];
            ObserverSpec spec =
                    i % 5 == 4
                            ? TestRecords.spec(
                                    ObserverKind.PerChannelMinMaxObserver,
                                    dtype,
                                    QScheme.per_channel_affine)
                            : TestRecords.spec(
                                    ObserverKind.MovingAverageMinMaxObserver,
                                    dtype,
                                    i % 2 == 0
                                            ? QScheme.per_tensor_affine
                                            : QScheme.per_tensor_symmetric);
            entries.add(
                    TestRecords.record(String.format("layer%02d.output", 39 - i), spec, random));
        }
        entries.sort((a, b) -> a.name().compareTo(b.name()));
        return entries;
    }

    @Test
    @SuppressWarnings("unchecked")
    void theFourFiles() throws Exception {
        List<ExportEntry> entries = records();
        Path out = dir.resolve("calibration");
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        Exporter.export(
                new OrtCalibrationExport(),
                entries,
                out,
                new PrintStream(notes, true, StandardCharsets.UTF_8));
        try (var files = Files.list(out)) {
            assertEquals(
                    Set.of(
                            "calibration.json",
                            "calibration.flatbuffers",
                            "calibration.cache",
                            "tensor_quant_overrides.json"),
                    files.map(p -> p.getFileName().toString()).collect(Collectors.toSet()));
        }
        List<ExportEntry> perTensor =
                entries.stream().filter(e -> !e.record().perChannel()).toList();
        assertTrue(
                notes.toString(StandardCharsets.UTF_8)
                        .contains((entries.size() - perTensor.size()) + " per-channel records"));

        Map<String, Object> json =
                (Map<String, Object>)
                        JsonValues.parse(Files.readAllBytes(out.resolve("calibration.json")));
        assertEquals("TensorsData", json.get("CLS"));
        assertEquals(
                Map.of("CLS", "CalibrationMethod", "value", "CalibrationMethod.MinMax"),
                json.get("calibration_method"));
        Map<String, Object> data = (Map<String, Object>) json.get("data");
        assertEquals(perTensor.size(), data.size());
        for (ExportEntry e : perTensor) {
            Map<String, Object> t = (Map<String, Object>) data.get(e.name());
            assertEquals("TensorData", t.get("CLS"));
            for (String side : List.of("lowest", "highest")) {
                Map<String, Object> a = (Map<String, Object>) t.get(side);
                assertEquals("numpy.array", a.get("CLS"));
                assertEquals("float32", a.get("dtype"));
                float v = ((Number) ((List<Object>) a.get("data")).get(0)).floatValue();
                float expected =
                        side.equals("lowest") ? e.record().minVal()[0] : e.record().maxVal()[0];
                assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(v), e.name());
            }
        }

        List<String> cache = Files.readAllLines(out.resolve("calibration.cache"));
        assertEquals(perTensor.size(), cache.size());
        for (int i = 0; i < perTensor.size(); i++) {
            QParamsRecord r = perTensor.get(i).record();
            String range = PyFloat.repr(Math.max(Math.abs(r.minVal()[0]), Math.abs(r.maxVal()[0])));
            assertEquals(perTensor.get(i).name() + " " + range, cache.get(i));
            float back = (float) Double.parseDouble(range);
            assertEquals(Math.max(Math.abs(r.minVal()[0]), Math.abs(r.maxVal()[0])), back);
        }

        // The real flatc decodes the file with ORT's schema, to the cache's pairs in key order.
        Path schema = Path.of("..", "docs", "schema", "trt_cal_table.fbs").toAbsolutePath();
        Path flatc = Path.of("/usr/bin/flatc");
        assertTrue(
                Files.isExecutable(flatc),
                "needs flatc (apt-get install flatbuffers-compiler; .ci/run installs it)");
        Process p =
                new ProcessBuilder(
                                flatc.toString(),
                                "--json",
                                "--strict-json",
                                "--raw-binary",
                                "-o",
                                dir.toString(),
                                schema.toString(),
                                "--",
                                out.resolve("calibration.flatbuffers").toString())
                        .redirectErrorStream(true)
                        .start();
        String flatcOutput = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "flatc: " + flatcOutput);
        Map<String, Object> decoded =
                (Map<String, Object>)
                        JsonValues.parse(Files.readAllBytes(dir.resolve("calibration.json")));
        List<Object> dict = (List<Object>) decoded.get("dict");
        assertEquals(cache.size(), dict.size());
        for (int i = 0; i < dict.size(); i++) {
            Map<String, Object> kv = (Map<String, Object>) dict.get(i);
            assertEquals(cache.get(i), kv.get("key") + " " + kv.get("value"));
        }

        Map<String, Object> overrides =
                (Map<String, Object>)
                        JsonValues.parse(
                                Files.readAllBytes(out.resolve("tensor_quant_overrides.json")));
        assertEquals(entries.size(), overrides.size());
        for (ExportEntry e : entries) {
            QParamsRecord r = e.record();
            List<Object> list = (List<Object>) overrides.get(e.name());
            assertEquals(r.scale().length, list.size());
            for (int c = 0; c < list.size(); c++) {
                Map<String, Object> o = (Map<String, Object>) list.get(c);
                assertEquals(
                        Float.floatToIntBits(r.scale()[c]),
                        Float.floatToIntBits(((Number) o.get("scale")).floatValue()));
                assertEquals(r.zeroPoint()[c], o.get("zero_point"));
                assertEquals(
                        c == 0 ? OrtCalibrationExport.quantType(e) : null, o.get("quant_type"));
                assertEquals(r.perChannel() && c == 0 ? r.chAxis() : null, o.get("axis"));
            }
        }
    }

    @Test
    void anExportReplacesTheEarlierFolder() throws Exception {
        Path out = dir.resolve("calibration");
        List<ExportEntry> entries = records();
        Exporter.export(new OrtCalibrationExport(), entries, out, System.err);
        Exporter.export(new OrtCalibrationExport(), entries.subList(0, 3), out, System.err);
        assertEquals(
                3,
                Files.readAllLines(out.resolve("calibration.cache")).size()
                        + entries.subList(0, 3).stream()
                                .filter(e -> e.record().perChannel())
                                .count());
        try (var files = Files.list(dir)) {
            assertEquals(
                    List.of("calibration"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void int32HasNoOrtQuantType() {
        ObserverSpec spec =
                TestRecords.spec(
                        ObserverKind.MinMaxObserver, QuantDtype.qint32, QScheme.per_tensor_affine);
        ExportEntry e = TestRecords.record("bias", spec, -1f, 1f);
        ExportException refused =
                assertThrows(
                        ExportException.class,
                        () ->
                                Exporter.export(
                                        new OrtCalibrationExport(),
                                        List.of(e),
                                        dir.resolve("c"),
                                        System.err));
        assertTrue(
                refused.getMessage()
                        .startsWith("tensor 'bias': dtype qint32 has no ONNX Runtime quant type"),
                refused.getMessage());
    }
}
