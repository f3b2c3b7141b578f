package io.qparams.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qparams run} refuses bad flags and configs before it starts anything: exit 2, one line.
 */
class RunCommandTest {

    @Test
    void aConfigTorchRefusesExitsTwoWithTorchsReason(@TempDir Path dir) throws IOException {
        Path config =
                Files.writeString(
                        dir.resolve("observers.yaml"),
                        String.join(
                                "\n",
                                "observers:",
                                "  - match: \"*\"",
                                "    observer: MinMaxObserver",
                                "    quant_min: 1",
                                "    quant_max: 10",
                                ""));
        String err = assertRefused("--config", config.toString());
        assertTrue(err.contains("Used-specified quantization range must include 0."), err);
    }

    @Test
    void unknownKeysAndBadFlagsExitTwo(@TempDir Path dir) throws IOException {
        Path config =
                Files.writeString(
                        dir.resolve("observers.yaml"),
                        "observers:\n"
                                + "  - match: \"*\"\n"
                                + "    observer: MinMaxObserver\n"
                                + "    averaging_constant: 0.1\n");
        assertTrue(assertRefused("--config", config.toString()).contains("averaging_constant"));
        assertTrue(assertRefused("--delivery", "twice").contains("--delivery"));
        assertTrue(assertRefused("--bogus", "1").contains("--bogus"));
        assertTrue(
                assertRefused("--config", dir.resolve("missing.yaml").toString())
                        .contains("missing.yaml"));
        assertTrue(assertRefused("--print", "loud").contains("--print"));
        assertTrue(
                assertRefused("--print", "none", "--max-records", "10")
                        .contains("--max-records counts the records it prints"));
        assertTrue(assertRefused("--step-timeout", "0ms").contains("--step-timeout"));
        assertTrue(assertRefused("--state-ttl", "1s").contains("at least 1min"));
    }

    @Test
    void aKafkaPropertiesFileIsCheckedBeforeAnythingConnects(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing.properties");
        assertEquals(
                "qparams run: --kafka-properties " + missing + ": no such file",
                assertRefused("--kafka-properties", missing.toString()).strip());
        Path typo = Files.writeString(dir.resolve("typo.properties"), "sasl.mechansim=PLAIN\n");
        assertTrue(
                assertRefused("--kafka-properties", typo.toString())
                        .contains("'sasl.mechansim' is not a Kafka client setting"));
        Path unset =
                Files.writeString(
                        dir.resolve("unset.properties"),
                        "ssl.key.password=${env:QPARAMS_TEST_VARIABLE_THAT_IS_NOT_SET}\n");
        String reason = assertRefused("--kafka-properties", unset.toString());
        assertTrue(reason.contains("does not resolve on this machine"), reason);
    }

    private static String assertRefused(String... args) {
        CliRun run = CliRun.of("run", args);
        String stderr = run.err();
        assertEquals(2, run.status(), stderr);
        assertEquals("", run.out());
        assertEquals(1, stderr.strip().lines().count(), stderr);
        assertTrue(stderr.startsWith("qparams run: "), stderr);
        return stderr;
    }
}
