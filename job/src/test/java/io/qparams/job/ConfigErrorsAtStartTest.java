package io.qparams.job;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The job refuses a bad observer config before it touches Kafka or builds anything: {@link
 * QParamsJob#run} throws at once with one line naming the file, the rule and the bad key or value.
 * (The broker address is unreachable: had the job got as far as creating topics, it would wait a
 * minute for it.)
 */
class ConfigErrorsAtStartTest {
    private static final String RULE = "observers:\n  - match: \"*\"\n";

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                arguments(
                        "unknown top-level key",
                        RULE + "    observer: MinMaxObserver\ncolour: blue\n",
                        "unknown key 'colour'"),
                arguments(
                        "unknown rule key",
                        RULE + "    observer: MinMaxObserver\n    chaxis: 0\n",
                        "observers[0] (match \"*\"): unknown key 'chaxis'"),
                arguments(
                        "unknown observer",
                        RULE + "    observer: HistogramObserver\n",
                        "unknown observer 'HistogramObserver'"),
                arguments(
                        "unknown dtype",
                        RULE + "    observer: MinMaxObserver\n    dtype: qint9\n",
                        "dtype 'qint9'"),
                arguments(
                        "unknown qscheme",
                        RULE + "    observer: MinMaxObserver\n    qscheme: per_tensor_fancy\n",
                        "qscheme 'per_tensor_fancy'"),
                arguments(
                        "per-channel qscheme for a per-tensor observer",
                        RULE + "    observer: MinMaxObserver\n    qscheme: per_channel_affine\n",
                        "MinMaxObserver's qscheme only support torch.per_tensor_symmetric"),
                arguments(
                        "per-tensor qscheme for a per-channel observer",
                        RULE
                                + "    observer: PerChannelMinMaxObserver\n"
                                + "    qscheme: per_tensor_affine\n",
                        "PerChannelMinMaxObserver's qscheme only support"),
                arguments(
                        "quantization range without 0",
                        RULE
                                + "    observer: MinMaxObserver\n"
                                + "    quant_min: 10\n"
                                + "    quant_max: 50\n",
                        "quantization range must include 0"),
                arguments(
                        "ch_axis not an integer",
                        RULE + "    observer: PerChannelMinMaxObserver\n    ch_axis: zero\n",
                        "'ch_axis' must be an integer, got string \"zero\""),
                arguments(
                        "reduce_range not a boolean",
                        RULE + "    observer: MinMaxObserver\n    reduce_range: maybe\n",
                        "'reduce_range' must be true or false"),
                arguments(
                        "unknown nonfinite policy",
                        "nonfinite: sometimes\n" + RULE + "    observer: MinMaxObserver\n",
                        "nonfinite 'sometimes': expected reject, ignore or propagate"),
                arguments("empty file", "", "the config is empty"),
                arguments(
                        "YAML syntax error",
                        "observers: [\n  - match\n",
                        "invalid YAML at line 2, column 3"),
                arguments(
                        "observers not a list",
                        "observers: MinMaxObserver\n",
                        "'observers' must be a list of rules"),
                arguments("no rules", "observers: []\n", "'observers' is empty"),
                arguments(
                        "rule without match",
                        "observers:\n  - observer: MinMaxObserver\n",
                        "missing key 'match'"));
    }

    @TempDir Path dir;

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigs")
    void refusedBeforeExecuteWithOneLineNamingTheProblem(String name, String yaml, String expected)
            throws Exception {
        Path config = dir.resolve("observers.yaml");
        Files.writeString(config, yaml);
        JobOptions options =
                JobOptions.parse(
                        "--config", config.toString(), "--bootstrap-servers", "127.0.0.1:1");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        IllegalArgumentException e =
                assertTimeoutPreemptively(
                        Duration.ofSeconds(20),
                        () ->
                                assertThrows(
                                        IllegalArgumentException.class,
                                        () -> QParamsJob.run(env, options),
                                        name));
        String message = e.getMessage();
        assertFalse(message.contains("\n") || message.contains("\r"), name + ": " + message);
        assertTrue(message.startsWith(config.toString()), name + ": names the file: " + message);
        assertTrue(
                message.contains(expected),
                name + ": '" + message + "' should name '" + expected + "'");
        assertTrue(env.getTransformations().isEmpty(), name + ": nothing was built");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("missingFiles")
    void unreadableConfigIsRefusedToo(String name, String path) {
        JobOptions options =
                JobOptions.parse(
                        "--config",
                        dir.resolve(path).toString(),
                        "--bootstrap-servers",
                        "127.0.0.1:1");
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                QParamsJob.run(
                                        StreamExecutionEnvironment.getExecutionEnvironment(),
                                        options));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(
                e.getMessage().contains(path) && e.getMessage().contains("cannot read the config"),
                e.getMessage());
    }

    static Stream<Arguments> missingFiles() {
        return Stream.of(arguments("missing file", "absent.yaml"), arguments("a directory", "."));
    }
}
