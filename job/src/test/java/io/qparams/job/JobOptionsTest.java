package io.qparams.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;

import io.qparams.connectors.kafka.Delivery;
import io.qparams.connectors.kafka.StartingOffsets;
import io.qparams.connectors.kafka.Topics;
import org.junit.jupiter.api.Test;

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
        JobOptions o = JobOptions.parse("--bootstrap-servers", "broker:9093", "--config", "conf/observers.yaml",
                "--input-topic", "in", "--output-topic", "out", "--dlq-topic", "in.dlq", "--control-topic", "ctl",
                "--group-id", "g1", "--parallelism", "3", "--checkpoint-interval", "500ms", "--delivery",
                "exactly-once", "--starting-offsets", "latest", "--state-backend", "rocksdb", "--max-batch-bytes", "2mb");
        assertEquals("broker:9093", o.bootstrapServers());
        assertTrue(o.bootstrapServersGiven());
        assertEquals(Path.of("conf/observers.yaml"), o.config());
        assertEquals("in", o.inputTopic());
        assertEquals("out", o.outputTopic());
        assertEquals("in.dlq", o.dlqTopic());
        assertEquals("ctl", o.controlTopic());
        assertEquals("g1", o.groupId());
        assertEquals(3, o.parallelism());
        assertEquals(Duration.ofMillis(500), o.checkpointInterval());
        assertEquals(Delivery.EXACTLY_ONCE, o.delivery());
        assertEquals(StartingOffsets.LATEST, o.startingOffsets());
        assertEquals(JobOptions.StateBackend.ROCKSDB, o.stateBackend());
        assertEquals(2 << 20, o.maxBatchBytes());
        assertEquals(o.toString(), JobOptions.parse(o.toArgs()).toString());
    }

    @Test
    void durations() {
        assertEquals(Duration.ofSeconds(10), JobOptions.parse("--checkpoint-interval", "10s").checkpointInterval());
        assertEquals(Duration.ofMinutes(1), JobOptions.parse("--checkpoint-interval", "1min").checkpointInterval());
        assertEquals(Duration.ofSeconds(2), JobOptions.parse("--checkpoint-interval", "2 s").checkpointInterval());
        assertEquals(Duration.ofMillis(1500), JobOptions.parse("--checkpoint-interval", "1500").checkpointInterval());
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
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobOptions.parse(args),
                    String.join(" ", args));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertFalse(e.getMessage().isBlank());
        }
    }

    @Test
    void batchSizes() {
        assertEquals(4096, JobOptions.parse("--max-batch-bytes", "4096").maxBatchBytes());
        assertEquals(512 << 10, JobOptions.parse("--max-batch-bytes", "512kb").maxBatchBytes());
        assertTrue(JobOptions.DEFAULT_MAX_BATCH_BYTES < Topics.DLQ_MAX_MESSAGE_BYTES,
                "every refused batch fits the DLQ whole");
    }

    @Test
    void withBootstrapServersKeepsTheRest() {
        JobOptions o = JobOptions.parse("--group-id", "g", "--delivery", "exactly-once").withBootstrapServers("127.0.0.1:1234");
        assertEquals("127.0.0.1:1234", o.bootstrapServers());
        assertTrue(o.bootstrapServersGiven());
        assertEquals("g", o.groupId());
        assertEquals(Delivery.EXACTLY_ONCE, o.delivery());
    }
}
