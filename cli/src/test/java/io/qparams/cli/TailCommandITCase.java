package io.qparams.cli;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.embeddedkafka.EmbeddedKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/qparams tail} as a person sees it, against a real broker holding calibrate's records
 * (and one with a long name that drifted): in a real terminal (tmux, 120 x 30, the screen read with
 * capture-pane) the table with every tensor's latest record, redrawn in place when a record comes,
 * ended by Ctrl-C; with stdout to a file, one line per record.
 */
class TailCommandITCase {
    private static final String LONG_NAME =
            "encoder.layers.11.self_attention.output_projection.activation_post_process.output";
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

    /** calibrate's records, then a drifted one with a long name, on a new topic. */
    private static List<String> topicWithRecords(String topic) throws Exception {
        List<String> lines = new ArrayList<>(RecordFixtures.calibrated());
        lines.add(
                lines.get(0)
                        .replace("\"fc.output\"", "\"" + LONG_NAME + "\"")
                        .replaceFirst("}$", ",\"drift\":true,\"drift_ratio\":0.3125}"));
        RecordFixtures.createTopic(kafka.bootstrapServers(), topic, 2);
        RecordFixtures.produce(kafka.bootstrapServers(), topic, lines);
        return lines;
    }

    private static String number(float f) {
        return f == 0 ? "0" : String.format(Locale.ROOT, "%.4g", f);
    }

    /** What a row shows (spaces collapsed), without its tensor name, drift mark and age. */
    private static String cells(QParamsRecord r) {
        int c = 0;
        for (int i = 1; i < r.minVal().length; i++) {
            if (r.maxVal()[i] - r.minVal()[i] > r.maxVal()[c] - r.minVal()[c]) {
                c = i;
            }
        }
        return r.batches()
                + " "
                + number(r.minVal()[c])
                + " "
                + number(r.maxVal()[c])
                + " "
                + number(r.scale()[c])
                + " "
                + r.zeroPoint()[c]
                + (r.perChannel() ? " " + r.minVal().length + ", widest " + c : "");
    }

    private static String tmux(String socket, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("tmux", "-L", socket));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "tmux " + args[0] + " hangs");
        assertEquals(0, p.exitValue(), "tmux " + String.join(" ", args) + ": " + out);
        return out;
    }

    private static List<String> rows(String screen) {
        return screen.lines().map(l -> l.strip().replaceAll(" +", " ")).toList();
    }

    @Test
    @Timeout(300)
    void onATerminalATableOfTheLatestRecordsRedrawnInPlace() throws Exception {
        assertTrue(
                Files.isExecutable(Path.of("/usr/bin/tmux")),
                "needs tmux (apt-get install tmux; .ci/run installs it)");
        String topic = "tail-screen";
        List<String> lines = topicWithRecords(topic);
        Map<String, QParamsRecord> latest = new TreeMap<>();
        for (String line : lines) {
            latest.put(RecordFixtures.decode(line).tensor(), RecordFixtures.decode(line));
        }
        String socket = "qparams-tail-" + UUID.randomUUID();
        // COLUMNS and LINES unset: the width comes from the terminal (stty through /dev/tty).
        String command =
                String.format(
                        "env -u COLUMNS -u LINES QPARAMS_BUILD=never %s tail --bootstrap-servers %s"
                                + " --topic %s; echo exit=$?; sleep 600",
                        RecordFixtures.BIN, kafka.bootstrapServers(), topic);
        tmux(socket, "new-session", "-d", "-x", "120", "-y", "30", command);
        try {
            String[] screen = new String[1];
            RecordFixtures.await(
                    120,
                    () -> {
                        screen[0] = capture(socket);
                        return screen[0].contains("fc.output ") && screen[0].contains("5 tensors");
                    },
                    () -> "the table, on a screen showing\n" + screen[0]);
            List<String> rows = rows(screen[0]);
            assertTrue(rows.get(0).startsWith("qparams tail: " + topic + " on "), rows.get(0));
            assertEquals("TENSOR BATCHES MIN MAX SCALE ZP CHANNELS DRIFT AGE", rows.get(1));
            // Sorted by name; the long name cut in its middle to fit 120 columns.
            List<String> names = new ArrayList<>(latest.keySet());
            for (int i = 0; i < names.size(); i++) {
                String row = rows.get(2 + i);
                String name = names.get(i);
                if (name.equals(LONG_NAME)) {
                    assertTrue(row.startsWith("encoder.layers.1"), row);
                    assertTrue(row.contains("...") && row.contains("process.output "), row);
                    assertTrue(row.contains(" * 0.31 "), row);
                } else {
                    assertTrue(row.startsWith(name + " " + cells(latest.get(name))), row);
                }
            }
            assertEquals("", rows.get(2 + names.size()), "nothing below the table");
            for (String line : screen[0].lines().toList()) {
                assertTrue(line.length() < 120, line);
            }

            // A new record: its row changes in place, the table stays one table.
            String next = lines.get(0).replaceFirst("\"batches\":1,", "\"batches\":77,");
            RecordFixtures.produce(kafka.bootstrapServers(), topic, List.of(next));
            String expected = "fc.output " + cells(RecordFixtures.decode(next));
            RecordFixtures.await(
                    30,
                    () -> {
                        screen[0] = capture(socket);
                        // Its age, whatever a loaded machine makes it, ends the row.
                        return rows(screen[0]).stream()
                                .anyMatch(r -> r.matches(Pattern.quote(expected) + " \\d+s"));
                    },
                    () -> "the row '" + expected + "', on a screen showing\n" + screen[0]);
            rows = rows(screen[0]);
            assertEquals(1, rows.stream().filter(r -> r.startsWith("TENSOR ")).count(), screen[0]);
            assertTrue(rows.get(0).contains(" 30 records"), rows.get(0));

            // Ctrl-C ends it: the consumer closed, the table left on the screen.
            tmux(socket, "send-keys", "-t", "0", "C-c");
            RecordFixtures.await(
                    30,
                    () -> {
                        screen[0] = capture(socket);
                        return screen[0].contains("exit=");
                    },
                    () -> "the end, on a screen showing\n" + screen[0]);
            assertTrue(screen[0].contains("exit=130"), screen[0]);
            assertTrue(screen[0].contains("fc.output"), screen[0]);
            assertFalse(screen[0].contains("Exception"), screen[0]);
        } finally {
            tmux(socket, "kill-server");
        }
    }

    private static String capture(String socket) {
        try {
            return tmux(socket, "capture-pane", "-p", "-t", "0");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    @Timeout(300)
    void withoutATerminalOneLinePerRecord() throws Exception {
        String topic = "tail-lines";
        List<String> lines = topicWithRecords(topic);
        Path out = dir.resolve("tail.out");
        Path err = dir.resolve("tail.err");
        ProcessBuilder pb =
                new ProcessBuilder(
                                RecordFixtures.BIN.toString(),
                                "tail",
                                "--bootstrap-servers",
                                kafka.bootstrapServers(),
                                "--topic",
                                topic,
                                "--match",
                                "fc.*",
                                "--match",
                                "encoder.*")
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("QPARAMS_BUILD", "never");
        Process tail = pb.start();
        try {
            List<String> expected =
                    lines.stream()
                            .filter(l -> l.contains("\"fc.") || l.contains("\"encoder."))
                            .toList();
            RecordFixtures.await(
                    120,
                    () -> read(out).size() >= expected.size(),
                    () -> expected.size() + " lines, got " + read(out) + "; stderr " + read(err));
            List<String> printed = read(out);
            assertEquals(expected.size(), printed.size(), String.join("\n", printed));
            // Each partition in order; the job keys by tensor, so each tensor's records in order.
            for (String tensor : List.of("fc.output", "fc.weight", LONG_NAME)) {
                List<String> want =
                        expected.stream()
                                .filter(l -> RecordFixtures.decode(l).tensor().equals(tensor))
                                .map(
                                        l ->
                                                QParamsPrinter.summarize(
                                                        l.getBytes(StandardCharsets.UTF_8)))
                                .toList();
                List<String> got =
                        printed.stream()
                                .map(l -> l.substring(l.indexOf(' ') + 1))
                                .filter(l -> l.startsWith(tensor + " "))
                                .toList();
                assertEquals(want, got, tensor);
            }
            for (String line : printed) {
                assertTrue(line.matches("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d.*Z .*"), line);
            }
            assertTrue(
                    printed.stream().anyMatch(l -> l.contains(" DRIFT drift_ratio=0.3125 ")),
                    String.join("\n", printed));
            // Appended as records come.
            String next = lines.get(0).replaceFirst("\"batches\":1,", "\"batches\":78,");
            RecordFixtures.produce(kafka.bootstrapServers(), topic, List.of(next));
            RecordFixtures.await(
                    30,
                    () -> read(out).size() == expected.size() + 1,
                    () -> "one more line, got " + read(out));
            assertTrue(
                    read(out).get(expected.size()).contains(" fc.output "), read(out).toString());
        } finally {
            // Ctrl-C: SIGINT to the JVM (bin/qparams execs java).
            new ProcessBuilder("kill", "-INT", Long.toString(tail.pid())).start().waitFor();
            assertTrue(tail.waitFor(30, TimeUnit.SECONDS), "tail ends on SIGINT");
        }
        assertEquals(130, tail.exitValue(), String.join("\n", read(err)));
        assertTrue(
                read(err).stream().noneMatch(l -> l.contains("Exception")), read(err).toString());
    }

    private static List<String> read(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aKafkaPropertiesFileItCannotReadIsOneLineAndExit2() {
        CliRun run =
                CliRun.of(
                        "tail",
                        "--bootstrap-servers",
                        kafka.bootstrapServers(),
                        "--kafka-properties",
                        dir.resolve("missing.properties").toString());
        assertEquals(2, run.status(), run.err());
        assertEquals(
                "qparams tail: --kafka-properties "
                        + dir.resolve("missing.properties")
                        + ": no such file\n",
                run.err());
    }
}
