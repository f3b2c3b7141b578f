package io.qparams.export;

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
import java.util.SortedMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The latest record of every tensor from a JSON-lines records file (what calibrate prints). */
class LatestRecordsFileTest {
    static final ObserverSpec SPEC =
            TestRecords.spec(
                    ObserverKind.MovingAverageMinMaxObserver,
                    QuantDtype.quint8,
                    QScheme.per_tensor_affine);

    @TempDir Path dir;

    @Test
    void fromAFileTheLastLineOfATensorWins() throws Exception {
        Random random = new Random(1);
        List<ExportEntry> written = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            ExportEntry e = TestRecords.record("t" + (i % 7), SPEC, random);
            written.add(e);
            text.append(new String(e.json(), StandardCharsets.UTF_8))
                    .append(i % 5 == 0 ? "\n\n" : "\n");
        }
        Path file = dir.resolve("records.jsonl");
        Files.writeString(file, text);
        SortedMap<String, ExportEntry> latest = LatestRecords.fromFile(file);
        assertEquals(7, latest.size());
        for (int t = 0; t < 7; t++) {
            ExportEntry last = null;
            for (ExportEntry e : written) {
                if (e.tensor().equals("t" + t)) {
                    last = e;
                }
            }
            assertArrayEquals(last.json(), latest.get("t" + t).json());
        }
    }

    @Test
    void aBadLineIsRefusedWithItsNumber() throws Exception {
        Path file = dir.resolve("bad.jsonl");
        ExportEntry e = TestRecords.record("t", SPEC, new Random(2));
        Files.writeString(
                file, new String(e.json(), StandardCharsets.UTF_8) + "\n{\"tensor\": \"x\"}\n");
        ExportException refused =
                assertThrows(ExportException.class, () -> LatestRecords.fromFile(file));
        assertTrue(
                refused.getMessage().startsWith(file + ":2: not a qparams record (missing field"),
                refused.getMessage());
        assertThrows(
                ExportException.class, () -> LatestRecords.fromFile(dir.resolve("missing.jsonl")));
    }
}
