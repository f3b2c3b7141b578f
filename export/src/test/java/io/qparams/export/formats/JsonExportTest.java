package io.qparams.export.formats;

import io.qparams.connectors.records.ContractSchemas;
import io.qparams.connectors.records.JsonValues;
import io.qparams.export.ExportEntry;
import io.qparams.export.Exporter;
import io.qparams.export.TestRecords;
import io.qparams.observers.ObserverSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonExportTest {
    @TempDir Path dir;

    @Test
    @SuppressWarnings("unchecked")
    void oneObjectOfTheRecordsAsTheyWereAndValidBySchema() throws Exception {
        Random random = new Random(9);
        List<ExportEntry> entries = new ArrayList<>();
        int i = 0;
        for (ObserverSpec spec : TestRecords.specs()) {
            ExportEntry e = TestRecords.record("t" + i, spec, random);
            // Renamed ones carry an odd key; the record keeps its tensor name.
            entries.add(
                    i % 3 == 0
                            ? new ExportEntry("model/\"q\"\u00e9." + i, e.record(), e.json())
                            : e);
            i++;
        }
        Path out = dir.resolve("qparams.json");
        Exporter.export(new JsonExport(), entries, out, System.err);
        byte[] bytes = Files.readAllBytes(out);
        ContractSchemas.assertExportJson(bytes);
        Map<String, Object> parsed = (Map<String, Object>) JsonValues.parse(bytes);
        assertEquals(entries.size(), parsed.size());
        List<String> lines = Files.readAllLines(out);
        assertEquals(entries.size() + 2, lines.size(), "one tensor per line");
        for (int k = 0; k < entries.size(); k++) {
            String line = lines.get(k + 1);
            String value =
                    line.substring(
                            line.indexOf("\": {") + 3,
                            line.length() - (k < entries.size() - 1 ? 1 : 0));
            assertArrayEquals(entries.get(k).json(), value.getBytes(StandardCharsets.UTF_8));
            assertEquals(
                    entries.get(k).tensor(),
                    ((Map<String, Object>) parsed.get(entries.get(k).name())).get("tensor"));
        }
    }
}
