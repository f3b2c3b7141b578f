package io.qparams.export.formats;

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

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The torch export read by real torch (Debian's python3-torch, which CI installs): torch.load,
 * load_state_dict(strict=False) into an eager-mode model prepared with each record's observer, and
 * calculate_qparams equal to every record's scale and zero point bit for bit
 * (src/test/resources/torch/check_torch_export.py), for every observer, dtype and qscheme.
 */
class TorchExportTest {
    @TempDir Path dir;

    @Test
    void torchLoadsItAndCalculatesEachRecordsQParams() throws Exception {
        Random random = new Random(13);
        List<ExportEntry> entries = new ArrayList<>();
        StringBuilder records = new StringBuilder();
        int i = 0;
        for (ObserverSpec spec : TestRecords.specs()) {
            // torch 1.13 (Debian's) has no observers for the bare uint8/int8/... dtypes of torch 2.
            if (!spec.dtype().toString().startsWith("q")) {
                continue;
            }
            ExportEntry e =
                    TestRecords.record(
                            "features." + i + (i % 2 == 0 ? ".output" : ".act"), spec, random);
            if (!e.record().isOk()) {
                continue;
            }
            entries.add(e);
            String json = new String(e.json(), StandardCharsets.UTF_8);
            records.append(json, 0, json.length() - 1)
                    .append(",\"module\":\"")
                    .append(TorchExport.module(e.name()))
                    .append("\"}\n");
            i++;
        }
        assertTrue(entries.size() > 40, "records: " + entries.size());
        Path out = dir.resolve("observers.pt");
        Exporter.export(new TorchExport(), entries, out, System.err);
        Path recordsFile = dir.resolve("records.jsonl");
        Files.writeString(recordsFile, records);

        Path python = Path.of("/usr/bin/python3");
        assertTrue(
                Files.isExecutable(python),
                "needs Debian's /usr/bin/python3 with python3-torch (CI installs it)");
        Process p =
                new ProcessBuilder(
                                python.toString(),
                                "src/test/resources/torch/check_torch_export.py",
                                out.toString(),
                                recordsFile.toString())
                        .redirectErrorStream(true)
                        .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "check_torch_export.py timed out");
        assertEquals(0, p.exitValue(), output);
        assertTrue(
                output.contains("checked " + entries.size() + " observers against torch"), output);
    }

    @Test
    void twoTensorsOfOneModuleAreRefused() {
        ObserverSpec spec =
                TestRecords.spec(
                        ObserverKind.MinMaxObserver, QuantDtype.quint8, QScheme.per_tensor_affine);
        ExportEntry a = TestRecords.record("fc", spec, -1f, 1f);
        ExportEntry b = TestRecords.record("fc.output", spec, -1f, 1f);
        ExportException refused =
                assertThrows(
                        ExportException.class,
                        () ->
                                Exporter.export(
                                        new TorchExport(),
                                        List.of(a, b),
                                        dir.resolve("x.pt"),
                                        System.err));
        assertTrue(
                refused.getMessage()
                        .startsWith("tensors 'fc' and 'fc.output' are both module 'fc'"),
                refused.getMessage());
    }

    @Test
    void theModuleRule() {
        assertEquals("features.3", TorchExport.module("features.3.output"));
        assertEquals("features.3.act", TorchExport.module("features.3.act"));
    }
}
