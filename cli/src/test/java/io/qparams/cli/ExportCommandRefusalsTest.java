package io.qparams.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code qparams export} refuses: a bad command line, an unreadable source, and a record the
 * format cannot express (affine qparams with a non-zero zero point for tensorrt, float zero points
 * for onnx), each with one line on stderr naming the tensor and exit status 2, nothing written: an
 * earlier export at --out is left as it was, and no staging file stays behind.
 */
class ExportCommandRefusalsTest {
    private static final Path ONNX_GOLDENS =
            Path.of("..", "export", "src", "test", "resources", "onnx");

    @TempDir Path dir;

    /** calibrate's records of the fixtures, as a JSON-lines file. */
    private Path records() throws Exception {
        return Files.write(dir.resolve("records.jsonl"), RecordFixtures.calibrated());
    }

    /** Runs export, expects exit 2 and stderr one line equal to {@code line}. */
    private static void assertRefused(String line, List<String> args) {
        CliRun run = CliRun.of("export", args.toArray(String[]::new));
        assertEquals(2, run.status(), String.join(" ", args) + ": " + run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("qparams export: " + line), run.err());
    }

    /** The folder's file names other than the given ones (a staging file would show here). */
    private List<String> othersIn(Path folder, String... known) throws Exception {
        try (var files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> !List.of(known).contains(n))
                    .toList();
        }
    }

    @Test
    void tensorrtRefusesAnAffineZeroPointNamingTheTensor() throws Exception {
        Path out = Files.writeString(dir.resolve("model.cache"), "an earlier export\n");
        assertRefused(
                "tensor 'input': per_tensor_affine with zero_point 131 cannot be expressed in a"
                        + " TensorRT cache",
                List.of(
                        "--format",
                        "tensorrt",
                        "--records",
                        ONNX_GOLDENS.resolve("records.jsonl").toString(),
                        "--out",
                        out.toString()));
        assertEquals("an earlier export\n", Files.readString(out));
        assertEquals(List.of(), othersIn(dir, "model.cache"));
    }

    @Test
    void onnxRefusesFloatZeroPointsNamingTheTensor() throws Exception {
        // calibrate's fixtures with the weights observed per_channel_affine_float_qparams.
        Path config = dir.resolve("observers.yaml");
        Files.writeString(
                config,
                Files.readString(RecordFixtures.FIXTURES.resolve("observers.yaml"))
                        .replace(
                                "    dtype: qint8\n    qscheme: per_channel_symmetric",
                                "    dtype: quint8\n"
                                        + "    qscheme: per_channel_affine_float_qparams"));
        CliRun calibrated =
                CliRun.of(
                        "calibrate",
                        "--config",
                        config.toString(),
                        "--manifest",
                        RecordFixtures.FIXTURES.resolve("manifest.jsonl").toString());
        assertEquals(0, calibrated.status(), calibrated.err());
        assertTrue(calibrated.out().contains("per_channel_affine_float_qparams"));
        Path records = Files.writeString(dir.resolve("float.jsonl"), calibrated.out());
        Path out = dir.resolve("model.qdq.onnx");
        assertRefused(
                "tensor 'fc.weight': per_channel_affine_float_qparams (float zero points) cannot be"
                        + " expressed in the onnx format",
                List.of(
                        "--format",
                        "onnx",
                        "--model",
                        ONNX_GOLDENS.resolve("model.onnx").toString(),
                        "--records",
                        records.toString(),
                        "--match",
                        "*.weight",
                        "--out",
                        out.toString()));
        assertFalse(Files.exists(out));
        assertEquals(List.of(), othersIn(dir, "observers.yaml", "float.jsonl"));
    }

    @Test
    void badCommandLinesAreOneLineAndExit2() throws Exception {
        Path records = records();
        Object[][] cases = {
            {
                new String[] {"--format", "json", "--out", dir.resolve("x").toString()},
                "give either --records FILE or --bootstrap-servers"
            },
            {
                new String[] {
                    "--format",
                    "onnx9",
                    "--records",
                    records.toString(),
                    "--out",
                    dir.resolve("x").toString()
                },
                "--format 'onnx9': expected one of"
            },
            {
                new String[] {
                    "--format",
                    "json",
                    "--records",
                    dir.resolve("none.jsonl").toString(),
                    "--out",
                    dir.resolve("x").toString()
                },
                "no such file"
            },
            {
                new String[] {
                    "--format",
                    "json",
                    "--records",
                    records.toString(),
                    "--out",
                    dir.resolve("no/such/folder/x").toString()
                },
                "--out"
            },
            {
                new String[] {
                    "--format",
                    "json",
                    "--records",
                    records.toString(),
                    "--match",
                    "nothing*",
                    "--out",
                    dir.resolve("x").toString()
                },
                "--match leaves none of"
            },
            {
                new String[] {
                    "--format",
                    "aimet",
                    "--aimet-version",
                    "3",
                    "--records",
                    records.toString(),
                    "--out",
                    dir.resolve("x").toString()
                },
                "--aimet-version '3'"
            },
            {
                new String[] {
                    "--format",
                    "json",
                    "--model",
                    "m.onnx",
                    "--records",
                    records.toString(),
                    "--out",
                    dir.resolve("x").toString()
                },
                "--model is an option of --format onnx only"
            },
            {
                new String[] {
                    "--format",
                    "json",
                    "--records",
                    records.toString(),
                    "--kafka-properties",
                    "client.properties",
                    "--out",
                    dir.resolve("x").toString()
                },
                "--kafka-properties goes with --bootstrap-servers only"
            },
            {
                new String[] {
                    "--format",
                    "json",
                    "--bootstrap-servers",
                    "127.0.0.1:1",
                    "--kafka-properties",
                    dir.resolve("none.properties").toString(),
                    "--out",
                    dir.resolve("x").toString()
                },
                "--kafka-properties " + dir.resolve("none.properties") + ": no such file"
            },
            {
                new String[] {
                    "--format",
                    "json",
                    "--records",
                    records.toString(),
                    "--out",
                    Path.of("/proc/qparams-export-test").toString()
                },
                "writing /proc/qparams-export-test failed"
            },
        };
        for (Object[] c : cases) {
            CliRun run = CliRun.of("export", (String[]) c[0]);
            assertEquals(2, run.status(), String.join(" ", (String[]) c[0]) + ": " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(
                    run.err().startsWith("qparams export: ") && run.err().contains((String) c[1]),
                    run.err());
            assertFalse(Files.exists(dir.resolve("x")));
        }
    }
}
