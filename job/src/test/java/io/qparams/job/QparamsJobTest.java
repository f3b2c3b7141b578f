package io.qparams.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import org.apache.flink.api.dag.Transformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QparamsJobTest {
    @TempDir
    Path dir;

    @Test
    void everyOperatorHasANameAndAUid() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobOptions options = JobOptions.parse("--bootstrap-servers", "127.0.0.1:1");
        QparamsJob.configure(env, options);
        QparamsJob.fromOptions(options).build(env);
        Set<String> uids = new HashSet<>();
        for (Transformation<?> t : env.getTransformations()) {
            collect(t, uids);
        }
        assertEquals(Set.of("input-source", "decode-and-reduce", "control-source", "parse-control", "observe",
                "output-sink", "dead-letter-sink"), uids);
        assertTrue(env.getCheckpointConfig().isCheckpointingEnabled());
    }

    /** Walks up from the sinks; side outputs, unions and partitioning carry no state and need no uid. */
    private static void collect(Transformation<?> t, Set<String> uids) {
        String simple = t.getClass().getSimpleName();
        boolean stateless = simple.startsWith("SideOutput") || simple.startsWith("Union") || simple.startsWith("Partition");
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
    void aBadConfigFailsBeforeTheJobRunsWithAOneLineReason() throws Exception {
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "observers:\n  - match: \"*\"\n    observer: MinMaxObserver\n    qscheme: per_channel_affine\n");
        JobOptions options = JobOptions.parse("--config", config.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QparamsJob.fromOptions(options));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("per_tensor"), e.getMessage());

        JobOptions missing = JobOptions.parse("--config", dir.resolve("absent.yaml").toString());
        IllegalArgumentException absent = assertThrows(IllegalArgumentException.class, () -> QparamsJob.fromOptions(missing));
        assertTrue(absent.getMessage().contains("absent.yaml"), absent.getMessage());
    }
}
