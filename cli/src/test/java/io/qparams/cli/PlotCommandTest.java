package io.qparams.cli;

import io.qparams.embeddedkafka.EmbeddedKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qparams plot} as a user runs it: calibrate's records (and a tensor whose name no file
 * system or HTML page takes as it is) from a records file and from a real broker's topic, the same
 * charts either way; bad command lines and sources exit 2 with one line and write nothing.
 */
class PlotCommandTest {
    private static final String ODD = "odd/<name> & \"quoted\" 'x'";
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

    private static List<String> lines() {
        List<String> lines = new ArrayList<>(RecordFixtures.calibrated());
        for (int b = 1; b <= 3; b++) {
            lines.add(PlotHistoryTest.perTensor(ODD, b, -b, b, 0.01f * b));
        }
        return lines;
    }

    @Test
    void fromTheFileAndFromTheTopicTheSameCharts() throws Exception {
        List<String> lines = lines();
        Path records = dir.resolve("records.jsonl");
        Files.write(records, lines);
        String topic = "plot-all";
        RecordFixtures.createTopic(kafka.bootstrapServers(), topic, 3);
        RecordFixtures.produce(kafka.bootstrapServers(), topic, lines);

        Path fromFile = dir.resolve("fc-file.png");
        CliRun run =
                CliRun.of(
                        "plot",
                        "--records",
                        records.toString(),
                        "--tensor",
                        "fc.output",
                        "--out",
                        fromFile.toString());
        assertEquals(0, run.status(), run.err());
        assertEquals("", run.out());
        assertTrue(run.err().contains("plot: fc.output, batches 1 to 12, drawn in "), run.err());
        BufferedImage image = ImageIO.read(fromFile.toFile());
        assertEquals(TensorCharts.WIDTH, image.getWidth());

        Path fromTopic = dir.resolve("fc-topic.png");
        run =
                CliRun.of(
                        "plot",
                        "--bootstrap-servers",
                        kafka.bootstrapServers(),
                        "--topic",
                        topic,
                        "--tensor",
                        "fc.output",
                        "--out",
                        fromTopic.toString());
        assertEquals(0, run.status(), run.err());
        assertArrayEquals(Files.readAllBytes(fromFile), Files.readAllBytes(fromTopic));

        Path folder = dir.resolve("all");
        run =
                CliRun.of(
                        "plot",
                        "--bootstrap-servers",
                        kafka.bootstrapServers(),
                        "--topic",
                        topic,
                        "--all",
                        "--out",
                        folder.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.err().contains("plot: 5 tensors drawn in "), run.err());
        Set<String> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
        String oddFile = "odd__name_____quoted___x_.png";
        assertEquals(
                Set.of(
                        "block.conv.output.png",
                        "fc.output.png",
                        "fc.weight.png",
                        "relu.output.png",
                        oddFile,
                        "index.html"),
                files);
        // Each tensor's chart as --tensor draws it.
        assertArrayEquals(
                Files.readAllBytes(fromFile), Files.readAllBytes(folder.resolve("fc.output.png")));
        String html = Files.readString(folder.resolve("index.html"));
        assertTrue(
                html.contains(
                        "<figcaption>odd/&lt;name&gt; &amp; &quot;quoted&quot;"
                                + " &#39;x&#39;</figcaption>"),
                html);
        assertTrue(html.contains("<img src=\"" + oddFile + "\""), html);
        assertFalse(html.contains(ODD), "the name unescaped");
        for (String f : files) {
            assertTrue(f.equals("index.html") || html.contains("<img src=\"" + f + "\""), f);
        }

        // --match narrows --all; the earlier folder is replaced.
        run =
                CliRun.of(
                        "plot",
                        "--records",
                        records.toString(),
                        "--all",
                        "--match",
                        "fc.*",
                        "--out",
                        folder.toString());
        assertEquals(0, run.status(), run.err());
        try (Stream<Path> list = Files.list(folder)) {
            assertEquals(3, list.count());
        }
    }

    private void refused(String reason, Path out, String... args) {
        CliRun run = CliRun.of("plot", args);
        assertEquals(2, run.status(), run.err());
        assertEquals("qparams plot: " + reason + "\n", run.err().replace(dir + "/", ""));
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void badInputIsOneLineAndExit2() throws Exception {
        Path records = dir.resolve("records.jsonl");
        Files.write(records, lines());
        Path out = dir.resolve("out.png");
        String o = out.toString();
        refused(
                "no records of tensor 'nope' among the 5 tensors of records.jsonl"
                        + " (block.conv.output, fc.output, fc.weight, odd/<name> & \"quoted\" 'x',"
                        + " relu.output)",
                out,
                "--records",
                records.toString(),
                "--tensor",
                "nope",
                "--out",
                o);
        refused(
                "no such file: missing.jsonl",
                out,
                "--records",
                dir.resolve("missing.jsonl").toString(),
                "--all",
                "--out",
                o);
        Files.writeString(dir.resolve("bad.jsonl"), lines().get(0) + "\nnot json\n");
        assertTrue(
                CliRun.of(
                                "plot",
                                "--records",
                                dir.resolve("bad.jsonl").toString(),
                                "--all",
                                "--out",
                                o)
                        .err()
                        .startsWith(
                                "qparams plot: "
                                        + dir.resolve("bad.jsonl")
                                        + ":2: not a qparams record"));
        RecordFixtures.createTopic(kafka.bootstrapServers(), "plot-empty", 1);
        refused(
                "topic 'plot-empty' is empty",
                out,
                "--bootstrap-servers",
                kafka.bootstrapServers(),
                "--topic",
                "plot-empty",
                "--all",
                "--out",
                o);
        refused(
                "topic 'plot-none' does not exist on " + kafka.bootstrapServers(),
                out,
                "--bootstrap-servers",
                kafka.bootstrapServers(),
                "--topic",
                "plot-none",
                "--all",
                "--out",
                o);
        refused(
                "give either --tensor NAME or --all",
                out,
                "--records",
                records.toString(),
                "--out",
                o);
        refused(
                "give either --tensor NAME or --all",
                out,
                "--records",
                records.toString(),
                "--all",
                "--tensor",
                "fc.output",
                "--out",
                o);
        refused(
                "give either --records FILE or --bootstrap-servers HOST:PORT",
                out,
                "--all",
                "--out",
                o);
        refused(
                "--match selects tensors for --all only",
                out,
                "--records",
                records.toString(),
                "--tensor",
                "fc.output",
                "--match",
                "x",
                "--out",
                o);
        refused(
                "--match leaves none of the 5 tensors of records.jsonl (block.conv.output,"
                        + " fc.output, fc.weight, odd/<name> & \"quoted\" 'x', relu.output)",
                out,
                "--records",
                records.toString(),
                "--all",
                "--match",
                "x*",
                "--out",
                o);
        refused(
                "--kafka-properties goes with --bootstrap-servers only",
                out,
                "--records",
                records.toString(),
                "--all",
                "--kafka-properties",
                "client.properties",
                "--out",
                o);
        refused(
                "--kafka-properties missing.properties: no such file",
                out,
                "--bootstrap-servers",
                kafka.bootstrapServers(),
                "--all",
                "--kafka-properties",
                dir.resolve("missing.properties").toString(),
                "--out",
                o);
    }

    @Test
    void theKafkaPropertiesReachItsClient() throws Exception {
        String topic = "plot-tls";
        RecordFixtures.createTopic(kafka.bootstrapServers(), topic, 1);
        RecordFixtures.produce(kafka.bootstrapServers(), topic, lines());
        Path plain = Files.writeString(dir.resolve("plain.properties"), "client.id=plot-test\n");
        Path tls = Files.writeString(dir.resolve("tls.properties"), "security.protocol=SSL\n");
        String[] args = {
            "--bootstrap-servers",
            kafka.bootstrapServers(),
            "--topic",
            topic,
            "--timeout",
            "2s",
            "--tensor",
            "fc.output",
            "--out",
            dir.resolve("tls.png").toString(),
            "--kafka-properties"
        };
        CliRun run = CliRun.of("plot", concat(args, plain.toString()));
        assertEquals(0, run.status(), run.err());
        Files.delete(dir.resolve("tls.png"));
        // TLS against the plaintext broker: no answer, so the file's settings reached the reader.
        run = CliRun.of("plot", concat(args, tls.toString()));
        assertEquals(2, run.status(), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertFalse(Files.exists(dir.resolve("tls.png")), "nothing written");
    }

    private static String[] concat(String[] args, String last) {
        String[] all = Arrays.copyOf(args, args.length + 1);
        all[args.length] = last;
        return all;
    }
}
