package io.qparams.job;

import io.qparams.connectors.kafka.Delivery;
import io.qparams.connectors.kafka.StartingOffsets;
import io.qparams.connectors.kafka.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobOptionsTest {
    @Test
    void defaultsFollowTheContract() {
        JobOptions o = JobOptions.parse();
        assertEquals("localhost:9092", o.bootstrapServers());
        assertFalse(o.bootstrapServersGiven());
        assertNull(o.config());
        assertEquals("activations", o.inputTopic());
        assertEquals("qparams", o.outputTopic());
        assertEquals("activations.dlq", o.dlqTopic());
        assertEquals("qparams.control", o.controlTopic());
        assertEquals("qparams.events", o.eventsTopic());
        assertNull(o.driftEventsTopic(), "no drift rules: no events topic");
        assertEquals("qparams", o.groupId());
        assertNull(o.parallelism());
        assertEquals(Duration.ofSeconds(10), o.checkpointInterval());
        assertEquals(Delivery.AT_LEAST_ONCE, o.delivery());
        assertEquals(StartingOffsets.COMMITTED, o.startingOffsets());
        assertEquals(JobOptions.StateBackend.HASHMAP, o.stateBackend());
        assertEquals(15 << 20, o.maxBatchBytes());
    }

    @Test
    void parsesEveryFlag() {
        JobOptions o =
                JobOptions.parse(
                        "--bootstrap-servers",
                        "broker:9093",
                        "--config",
                        "conf/observers.yaml",
                        "--input-topic",
                        "in",
                        "--output-topic",
                        "out",
                        "--dlq-topic",
                        "in.dlq",
                        "--control-topic",
                        "ctl",
                        "--events-topic",
                        "ev",
                        "--group-id",
                        "g1",
                        "--parallelism",
                        "3",
                        "--checkpoint-interval",
                        "500ms",
                        "--delivery",
                        "exactly-once",
                        "--starting-offsets",
                        "latest",
                        "--state-backend",
                        "rocksdb",
                        "--max-batch-bytes",
                        "2mb");
        assertEquals("broker:9093", o.bootstrapServers());
        assertTrue(o.bootstrapServersGiven());
        assertEquals(Path.of("conf/observers.yaml"), o.config());
        assertEquals("in", o.inputTopic());
        assertEquals("out", o.outputTopic());
        assertEquals("in.dlq", o.dlqTopic());
        assertEquals("ctl", o.controlTopic());
        assertEquals("ev", o.eventsTopic());
        assertEquals("g1", o.groupId());
        assertEquals(3, o.parallelism());
        assertEquals(Duration.ofMillis(500), o.checkpointInterval());
        assertEquals(Delivery.EXACTLY_ONCE, o.delivery());
        assertEquals(StartingOffsets.LATEST, o.startingOffsets());
        assertEquals(JobOptions.StateBackend.ROCKSDB, o.stateBackend());
        assertEquals(2 << 20, o.maxBatchBytes());
        assertEquals(o, o.withBootstrapServers("broker:9093"), "the copy keeps every other option");
    }

    @Test
    void durations() {
        assertEquals(
                Duration.ofSeconds(10),
                JobOptions.parse("--checkpoint-interval", "10s").checkpointInterval());
        assertEquals(
                Duration.ofMinutes(1),
                JobOptions.parse("--checkpoint-interval", "1min").checkpointInterval());
        assertEquals(
                Duration.ofSeconds(2),
                JobOptions.parse("--checkpoint-interval", "2 s").checkpointInterval());
        assertEquals(
                Duration.ofMillis(1500),
                JobOptions.parse("--checkpoint-interval", "1500").checkpointInterval());
    }

    @Test
    void badInputIsOneLineIllegalArgument() {
        String[][] bad = {
            {"--unknown", "x"},
            {"-x", "1"},
            {"positional"},
            {"--parallelism", "0"},
            {"--parallelism", "-2"},
            {"--parallelism", "two"},
            {"--parallelism"},
            {"--checkpoint-interval", "soon"},
            {"--checkpoint-interval", "1ms"},
            {"--delivery", "twice"},
            {"--starting-offsets", "middle"},
            {"--input-topic", "bad topic"},
            {"--input-topic", "same", "--output-topic", "same"},
            {"--group-id", ""},
            {"--state-backend", "memory"},
            {"--state-backend"},
            {"--max-batch-bytes", "lots"},
            {"--max-batch-bytes", "100"},
            {"--max-batch-bytes", "3gb"},
        };
        for (String[] args : bad) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> JobOptions.parse(args),
                            String.join(" ", args));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertFalse(e.getMessage().isBlank());
        }
    }

    /** Each reason names the flag and what it takes; the CLI prints it after "qparams run: ". */
    @Test
    void reasonsNameTheFlagAndWhatItTakes() {
        assertReason("--parallelism 'two': expected a positive integer", "--parallelism", "two");
        assertReason("--parallelism needs a value", "--parallelism");
        assertReason("--group-id needs a value", "--group-id", " ");
        assertReason("--config needs a value", "--config", "--delivery", "exactly-once");
        assertReason(
                "--checkpoint-interval 'soon': expected a duration such as 10s, 500ms or 1min",
                "--checkpoint-interval",
                "soon");
        assertReason(
                "--checkpoint-interval '1ms': must be at least 10ms",
                "--checkpoint-interval",
                "1ms");
        assertReason(
                "--delivery 'twice': expected at-least-once|exactly-once", "--delivery", "twice");
        assertReason(
                "--starting-offsets 'middle': expected committed|earliest|latest",
                "--starting-offsets",
                "middle");
        assertReason(
                "--state-backend 'memory': expected hashmap|rocksdb", "--state-backend", "memory");
        assertReason(
                "--max-batch-bytes 'lots': expected a size such as 1048576, 512kb or 15mb",
                "--max-batch-bytes",
                "lots");
        assertReason(
                "--max-batch-bytes '3gb': must be between 1kb and 2gb", "--max-batch-bytes", "3gb");
        assertReason(
                "--input-topic 'bad topic': a Kafka topic name is 1-249 characters of a-z, A-Z,"
                        + " 0-9, '.', '_' and '-'",
                "--input-topic",
                "bad topic");
        assertReason(
                "--input-topic, --output-topic, --dlq-topic and --control-topic must be four"
                        + " different topics (got same, same, activations.dlq, qparams.control)",
                "--input-topic",
                "same",
                "--output-topic",
                "same");
        assertReason(
                "unknown option '--unknown' (see flink run qparams-job.jar --help)",
                "--unknown",
                "x");
        assertReason(
                "unexpected argument 'positional' (see flink run qparams-job.jar --help)",
                "positional");
    }

    private static void assertReason(String expected, String... args) {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> JobOptions.parse(args),
                        String.join(" ", args));
        assertEquals(expected, e.getMessage());
    }

    /**
     * As the flags always behaved: scripts put a default in front of the user's flags, and the
     * user's wins.
     */
    @Test
    void theEventsTopicIsUsedOnlyWithDriftRulesAndMustBeATopicOfItsOwn(@TempDir Path dir)
            throws Exception {
        Path drift = dir.resolve("drift.yaml");
        Files.writeString(
                drift,
                "observers: [{match: \"*\", observer: MinMaxObserver}]\ndrift: [{match: \"*\"}]\n");
        assertEquals(
                "qparams.events",
                JobOptions.parse("--config", drift.toString()).driftEventsTopic());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                JobOptions.parse(
                                                "--config",
                                                drift.toString(),
                                                "--events-topic",
                                                "qparams")
                                        .driftEventsTopic());
        assertEquals(
                "--events-topic qparams is one of the job's other topics: the config's drift rules"
                        + " need a topic of their own",
                e.getMessage());
        assertNull(
                JobOptions.parse("--events-topic", "qparams").driftEventsTopic(),
                "without drift rules the flag is unused, whatever it names");
    }

    @Test
    void aRepeatedFlagTakesItsLastValue() {
        assertEquals(
                Duration.ofMillis(500),
                JobOptions.parse("--checkpoint-interval", "1s", "--checkpoint-interval", "500ms")
                        .checkpointInterval());
    }

    @Test
    void batchSizes() {
        assertEquals(4096, JobOptions.parse("--max-batch-bytes", "4096").maxBatchBytes());
        assertEquals(512 << 10, JobOptions.parse("--max-batch-bytes", "512kb").maxBatchBytes());
        assertTrue(
                JobOptions.DEFAULT_MAX_BATCH_BYTES < Topics.DLQ_MAX_MESSAGE_BYTES,
                "every refused batch fits the DLQ whole");
    }

    @Test
    void withBootstrapServersKeepsTheRest() {
        JobOptions o =
                JobOptions.parse("--group-id", "g", "--delivery", "exactly-once")
                        .withBootstrapServers("127.0.0.1:1234");
        assertEquals("127.0.0.1:1234", o.bootstrapServers());
        assertTrue(o.bootstrapServersGiven());
        assertEquals("g", o.groupId());
        assertEquals(Delivery.EXACTLY_ONCE, o.delivery());
    }
}
