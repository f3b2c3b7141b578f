package io.qparams.export;

import io.qparams.observers.ObserverKind;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorSelectionTest {
    @TempDir Path dir;

    private static SortedMap<String, ExportEntry> latest(String... tensors) {
        SortedMap<String, ExportEntry> m = new TreeMap<>();
        for (String t : tensors) {
            m.put(
                    t,
                    TestRecords.record(
                            t,
                            TestRecords.spec(
                                    ObserverKind.MinMaxObserver,
                                    QuantDtype.quint8,
                                    QScheme.per_tensor_affine),
                            -1f,
                            1f));
        }
        return m;
    }

    private static List<String> names(List<ExportEntry> entries) {
        return entries.stream().map(ExportEntry::name).toList();
    }

    @Test
    void matchAndRenameFromText() throws Exception {
        Path rename = dir.resolve("names.txt");
        Files.writeString(
                rename,
                "# tensor -> ONNX value name\n"
                        + "encoder.0.output  /encoder/0/Relu_output_0\n\n"
                        + "unknown.output x\n");
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        List<ExportEntry> out =
                TensorSelection.of(List.of("encoder.*", "head.output"), rename)
                        .select(
                                latest(
                                        "encoder.0.output",
                                        "encoder.1.output",
                                        "decoder.output",
                                        "head.output"),
                                new PrintStream(notes, true, StandardCharsets.UTF_8));
        assertEquals(
                List.of("/encoder/0/Relu_output_0", "encoder.1.output", "head.output"), names(out));
        assertEquals("encoder.0.output", out.get(0).tensor());
        assertTrue(
                notes.toString(StandardCharsets.UTF_8)
                        .contains("1 --rename entries name no exported tensor: unknown.output"),
                notes.toString());
    }

    @Test
    void renameFromJsonAndCollisionsRefused() throws Exception {
        Path rename = dir.resolve("names.json");
        Files.writeString(rename, "{\"a\": \"same\", \"b\": \"same\"}");
        ExportException refused =
                assertThrows(
                        ExportException.class,
                        () ->
                                TensorSelection.of(List.of(), rename)
                                        .select(latest("a", "b"), System.err));
        assertTrue(
                refused.getMessage()
                        .startsWith("tensors 'a' and 'b' would both be exported as 'same'"),
                refused.getMessage());
        Files.writeString(rename, "{\"a\": \"x\"}");
        assertEquals(
                List.of("x", "b"),
                names(TensorSelection.of(List.of(), rename).select(latest("a", "b"), System.err)));
    }

    @Test
    void badRenameFilesAreOneLine() throws Exception {
        Path rename = dir.resolve("bad.txt");
        Files.writeString(rename, "a b c\n");
        assertEquals(
                rename.toString(),
                assertThrows(ExportException.class, () -> TensorSelection.of(List.of(), rename))
                        .getMessage()
                        .replaceAll("^--rename (\\S+):1: .*$", "$1"));
        Files.writeString(rename, "{\"a\": 3}");
        assertThrows(ExportException.class, () -> TensorSelection.of(List.of(), rename));
        assertThrows(
                ExportException.class, () -> TensorSelection.of(List.of(), dir.resolve("missing")));
    }
}
