package io.qparams.job;

import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QParamsJobTest {
    @TempDir Path dir;

    @Test
    void everyOperatorHasANameAndAUid() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobOptions options = JobOptions.parse("--bootstrap-servers", "127.0.0.1:1");
        QParamsJob.configure(env, options);
        QParamsJob.fromOptions(options).build(env);
        Set<String> uids = new HashSet<>();
        for (Transformation<?> t : env.getTransformations()) {
            collect(t, uids);
        }
        assertEquals(
                Set.of(
                        "input-source",
                        "decode-and-reduce",
                        "control-source",
                        "parse-control",
                        "observe",
                        "output-sink",
                        "dead-letter-sink"),
                uids);
        assertTrue(env.getCheckpointConfig().isCheckpointingEnabled());
    }

    /**
     * Walks up from the sinks; side outputs, unions and partitioning carry no state and need no
     * uid.
     */
    private static void collect(Transformation<?> t, Set<String> uids) {
        String simple = t.getClass().getSimpleName();
        boolean stateless =
                simple.startsWith("SideOutput")
                        || simple.startsWith("Union")
                        || simple.startsWith("Partition");
        if (!stateless) {
            assertNotNull(t.getUid(), "uid of " + t.getName());
            assertFalse(t.getName().isBlank());
            uids.add(t.getUid());
        }
        for (Transformation<?> input : t.getInputs()) {
            collect(input, uids);
        }
    }

    @Test
    void checkpointingStateBackendAndRestartsAreFlinkConfiguration() {
        for (String backend : new String[] {"hashmap", "rocksdb"}) {
            JobOptions options =
                    JobOptions.parse("--state-backend", backend, "--checkpoint-interval", "2s");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            QParamsJob.configure(env, options);
            Configuration conf = (Configuration) env.getConfiguration();
            assertEquals(backend, conf.get(StateBackendOptions.STATE_BACKEND));
            assertEquals(
                    backend.equals("rocksdb"),
                    conf.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS));
            assertEquals(
                    CheckpointingMode.EXACTLY_ONCE,
                    env.getCheckpointConfig().getCheckpointingConsistencyMode());
            assertEquals(2000, env.getCheckpointConfig().getCheckpointInterval());
            assertEquals(
                    ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION,
                    conf.get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION));
            assertEquals("exponential-delay", conf.get(RestartStrategyOptions.RESTART_STRATEGY));
            assertEquals(
                    Duration.ofSeconds(1),
                    conf.get(
                            RestartStrategyOptions
                                    .RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF));
            assertEquals(
                    Duration.ofMinutes(1),
                    conf.get(
                            RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF));
            assertFalse(conf.get(PipelineOptions.GENERIC_TYPES));
            assertTrue(conf.get(PipelineOptions.OBJECT_REUSE));
            assertEquals(Duration.ofMillis(10), conf.get(ExecutionOptions.BUFFER_TIMEOUT));
            assertFalse(conf.contains(CheckpointingOptions.CHECKPOINTS_DIRECTORY));
        }
    }

    @Test
    void bufferTimeoutAndCheckpointDirComeFromTheFlags() {
        JobOptions options =
                JobOptions.parse(
                        "--buffer-timeout", "0ms", "--checkpoint-dir", "file:///tmp/qparams-cp");
        Configuration conf = QParamsJob.flinkConfiguration(options);
        assertEquals(Duration.ZERO, conf.get(ExecutionOptions.BUFFER_TIMEOUT));
        assertEquals(
                "file:///tmp/qparams-cp", conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY));
        for (String bad : new String[] {"-1ms", "2s", "soon"}) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> JobOptions.parse("--buffer-timeout", bad));
            assertTrue(e.getMessage().contains("--buffer-timeout"), e.getMessage());
        }
    }

    @Test
    void aBadConfigFailsBeforeTheJobRunsWithAOneLineReason() throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(
                config,
                "observers:\n"
                        + "  - match: \"*\"\n"
                        + "    observer: MinMaxObserver\n"
                        + "    qscheme: per_channel_affine\n");
        JobOptions options = JobOptions.parse("--config", config.toString());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> QParamsJob.fromOptions(options));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("per_tensor"), e.getMessage());

        JobOptions missing = JobOptions.parse("--config", dir.resolve("absent.yaml").toString());
        IllegalArgumentException absent =
                assertThrows(IllegalArgumentException.class, () -> QParamsJob.fromOptions(missing));
        assertTrue(absent.getMessage().contains("absent.yaml"), absent.getMessage());
    }
}
