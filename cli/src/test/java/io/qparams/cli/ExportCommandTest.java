package io.qparams.cli;

import io.qparams.connectors.records.ContractSchemas;
import io.qparams.connectors.records.JsonValues;
import io.qparams.connectors.records.QParamsRecord;
import io.qparams.connectors.records.QParamsRecordDecoder;
import io.qparams.embeddedkafka.EmbeddedKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qparams export} as a user runs it: the records {@code calibrate} prints (torch's
 * fixtures), exported from the file and from a real broker's topic, the same bytes either way in
 * every format. What export refuses is in ExportCommandRefusalsTest.
 */
class ExportCommandTest {
    private static EmbeddedKafka kafka;

    @TempDir Path dir;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    /** calibrate's records of the fixtures, as a JSON-lines file. */
    private Path records() throws Exception {
        return Files.write(dir.resolve("records.jsonl"), RecordFixtures.calibrated());
    }

    /** The last record of each tensor in the records file, by tensor. */
    private static Map<String, QParamsRecord> latest(Path records) throws Exception {
        Map<String, QParamsRecord> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(records)) {
            QParamsRecord r = QParamsRecordDecoder.decode(line.getBytes(StandardCharsets.UTF_8));
            m.put(r.tensor(), r);
        }
        return m;
    }

    @Test
    @SuppressWarnings("unchecked")
    void fromTheFileAndFromTheTopicTheSameExport() throws Exception {
        Path records = records();
        Path fromFile = dir.resolve("from-file.json");
        CliRun run =
                CliRun.of(
                        "export",
                        "--format",
                        "json",
                        "--records",
                        records.toString(),
                        "--out",
                        fromFile.toString());
        assertEquals(0, run.status(), run.err());
        assertEquals("", run.out());
        assertTrue(run.err().contains("export: json: "), run.err());
        ContractSchemas.assertExportJson(Files.readAllBytes(fromFile));

        String topic = toTopic(records, "qparams-export-cli");
        Path fromTopic = dir.resolve("from-topic.json");
        run =
                CliRun.of(
                        "export",
                        "--format",
                        "json",
                        "--bootstrap-servers",
                        kafka.bootstrapServers(),
                        "--topic",
                        topic,
                        "--out",
                        fromTopic.toString());
        assertEquals(0, run.status(), run.err());
        assertEquals(Files.readString(fromFile), Files.readString(fromTopic));

        Map<String, Object> exported =
                (Map<String, Object>) JsonValues.parse(Files.readAllBytes(fromFile));
        Map<String, QParamsRecord> expected = latest(records);
        assertEquals(expected.keySet(), exported.keySet());
        for (Map.Entry<String, QParamsRecord> e : expected.entrySet()) {
            Map<String, Object> r = (Map<String, Object>) exported.get(e.getKey());
            assertEquals(e.getValue().batches(), r.get("batches"), e.getKey());
        }
    }

    @Test
    void everyFormatFromTheFile() throws Exception {
        Path records = records();
        for (String format : List.of("json", "tensorrt", "aimet", "ort-calibration", "torch")) {
            Path out = dir.resolve("out-" + format);
            CliRun run =
                    CliRun.of(
                            "export",
                            "--format",
                            format,
                            "--records",
                            records.toString(),
                            "--out",
                            out.toString(),
                            "--match",
                            "*");
            // The fixtures' activations are quint8 affine: every format takes them but tensorrt
            // (symmetric int8), which refuses the first with a non-zero zero point in one line.
            if (format.equals("tensorrt")) {
                assertEquals(2, run.status(), format + ": " + run.err());
                assertEquals(1, run.err().lines().count(), run.err());
                assertTrue(
                        run.err()
                                .startsWith(
                                        "qparams export: tensor 'fc.output': per_tensor_affine with"
                                                + " zero_point "),
                        run.err());
                assertFalse(Files.exists(out), format);
            } else {
                assertEquals(0, run.status(), format + ": " + run.err());
                assertTrue(Files.exists(out), format);
            }
        }
    }

    /** Produces every line of a records file to a new topic, keyed by tensor. */
    private static String toTopic(Path records, String topic) throws Exception {
        RecordFixtures.createTopic(kafka.bootstrapServers(), topic, 3);
        RecordFixtures.produce(kafka.bootstrapServers(), topic, Files.readAllLines(records));
        return topic;
    }

    /** The bytes of an export: a file, or a folder's files in name order. */
    private static String contents(Path out) throws Exception {
        if (!Files.isDirectory(out)) {
            return java.util.HexFormat.of().formatHex(Files.readAllBytes(out));
        }
        StringBuilder b = new StringBuilder();
        try (var files = Files.list(out)) {
            for (Path f : files.sorted().toList()) {
                b.append(f.getFileName()).append('=').append(contents(f)).append('\n');
            }
        }
        return b.toString();
    }

    @Test
    void everyFormatTheSameFromTheTopicAsFromTheFile() throws Exception {
        Path goldens = Path.of("..", "export", "src", "test", "resources", "onnx");
        Path calibrated = records();
        String calibratedTopic = toTopic(calibrated, "export-every-format");
        String goldenTopic = toTopic(goldens.resolve("records.jsonl"), "export-onnx-goldens");
        List<String[]> cases =
                List.of(
                        new String[] {"json"},
                        new String[] {"tensorrt", "--match", "fc.output", "--match", "relu.output"},
                        new String[] {"aimet"},
                        new String[] {"ort-calibration"},
                        new String[] {"torch"},
                        new String[] {
                            "onnx",
                            "--model",
                            goldens.resolve("model.onnx").toString(),
                            "--rename",
                            goldens.resolve("rename.txt").toString()
                        });
        for (String[] c : cases) {
            // json over calibrate's records; the others over the onnx goldens' (torch observers'
            // records of a CNN), which every format can express (tensorrt: fc and relu outputs).
            boolean golden = !c[0].equals("json");
            List<String> common = new java.util.ArrayList<>(List.of("--format"));
            common.addAll(List.of(c));
            Path fromFile = dir.resolve(c[0] + "-from-file");
            Path fromTopic = dir.resolve(c[0] + "-from-topic");
            List<String> a = new java.util.ArrayList<>(common);
            a.addAll(
                    List.of(
                            "--records",
                            (golden ? goldens.resolve("records.jsonl") : calibrated).toString(),
                            "--out",
                            fromFile.toString()));
            List<String> b = new java.util.ArrayList<>(common);
            b.addAll(
                    List.of(
                            "--bootstrap-servers",
                            kafka.bootstrapServers(),
                            "--topic",
                            golden ? goldenTopic : calibratedTopic,
                            "--out",
                            fromTopic.toString()));
            CliRun file = CliRun.of("export", a.toArray(String[]::new));
            CliRun topic = CliRun.of("export", b.toArray(String[]::new));
            assertEquals(0, file.status(), c[0] + ": " + file.err());
            assertEquals(0, topic.status(), c[0] + ": " + topic.err());
            assertEquals(contents(fromFile), contents(fromTopic), c[0]);
        }
    }

    @Test
    void onnxWithAModelAndARenameMap() throws Exception {
        Path goldens = Path.of("..", "export", "src", "test", "resources", "onnx");
        Path out = dir.resolve("model.qdq.onnx");
        CliRun run =
                CliRun.of(
                        "export",
                        "--format",
                        "onnx",
                        "--records",
                        goldens.resolve("records.jsonl").toString(),
                        "--rename",
                        goldens.resolve("rename.txt").toString(),
                        "--model",
                        goldens.resolve("model.onnx").toString(),
                        "--out",
                        out.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(Files.size(out) > Files.size(goldens.resolve("model.onnx")));
        run =
                CliRun.of(
                        "export",
                        "--format",
                        "onnx",
                        "--records",
                        goldens.resolve("records.jsonl").toString(),
                        "--out",
                        dir.resolve("no-model.onnx").toString());
        assertEquals(2, run.status(), run.err());
        assertTrue(
                run.err().startsWith("qparams export: --format onnx needs --model IN.onnx"),
                run.err());
    }

    @Test
    void anAbsentTopicIsOneLineAndExit2() throws Exception {
        Path out = dir.resolve("x");
        CliRun run =
                CliRun.of(
                        "export",
                        "--format",
                        "json",
                        "--out",
                        out.toString(),
                        "--bootstrap-servers",
                        kafka.bootstrapServers(),
                        "--topic",
                        "absent");
        assertEquals(2, run.status(), run.err());
        assertEquals(
                "qparams export: topic 'absent' does not exist on " + kafka.bootstrapServers(),
                run.err().strip());
        assertFalse(Files.exists(out));
    }
}
