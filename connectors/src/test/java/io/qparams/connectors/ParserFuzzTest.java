package io.qparams.connectors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.qparams.connectors.batch.BatchDecoder;
import io.qparams.connectors.config.ObserverConfigLoader;
import io.qparams.connectors.records.ControlMessage;
import io.qparams.connectors.records.StepHeaders;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.InvalidObserverConfigException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Jazzer targets for everything that parses untrusted bytes: whatever the input, only the
 * documented exception may escape (InvalidBatchException / InvalidObserverConfigException, one
 * line), never another exception, an error or a converted crash ("cannot decode batch: ...").
 *
 * <p>Under plain {@code mvn test} each target runs once over its committed seeds in {@code
 * src/test/resources/io/qparams/connectors/ParserFuzzTestInputs/<target>/} (regression mode).
 * {@code JAZZER_FUZZ=1} fuzzes one target for at most {@code maxDuration}; a crash is saved next to
 * the seeds, to be committed as a regression input once fixed.
 *
 * <p>Batch targets: byte 0 selects the observer spec and the nonfinite policy, the rest is the
 * value.
 */
class ParserFuzzTest {
    private static final ObserverSpec[] SPECS = {
        ObserverSpec.builder(ObserverKind.MinMaxObserver).build(),
        ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver).build(),
        ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver).chAxis(0).build(),
        ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver).chAxis(1).build(),
        ObserverSpec.builder(ObserverKind.MovingAveragePerChannelMinMaxObserver).chAxis(-1).build(),
        ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver).chAxis(3).build(),
    };
    private static final NonFinitePolicy[] POLICIES = NonFinitePolicy.values();

    /** Small limit: the fuzzer's inputs stay small, and the size check is exercised too. */
    private final BatchDecoder decoder = new BatchDecoder(1 << 16);

    @FuzzTest(maxDuration = "30s")
    void decodeNpy(byte[] input) {
        decode(input, BatchDecoder.CONTENT_TYPE_NPY);
    }

    @FuzzTest(maxDuration = "30s")
    void decodeJson(byte[] input) {
        decode(input, BatchDecoder.CONTENT_TYPE_JSON);
    }

    /** No content type: the bytes decide (NPY magic, else JSON). */
    @FuzzTest(maxDuration = "30s")
    void decodeSniffed(byte[] input) {
        decode(input, null);
    }

    @FuzzTest(maxDuration = "30s")
    void parseControlMessage(byte[] input) {
        try {
            ControlMessage.parse(input);
        } catch (InvalidBatchException e) {
            assertOneLine(e.getMessage(), input);
        }
    }

    /**
     * The data-parallel headers: byte 0's low three bits say which of step, world size and rank are
     * present; the rest, split at NUL bytes, gives their texts.
     */
    @FuzzTest(maxDuration = "30s")
    void parseStepHeaders(byte[] input) {
        if (input.length == 0) {
            return;
        }
        String[] texts =
                new String(input, 1, input.length - 1, StandardCharsets.UTF_8).split("\0", 3);
        String[] headers = new String[3];
        for (int i = 0; i < 3; i++) {
            boolean present = (input[0] & (1 << i)) != 0;
            headers[i] = present ? (i < texts.length ? texts[i] : "") : null;
        }
        try {
            StepHeaders.parse(headers[0], headers[1], headers[2]);
        } catch (InvalidBatchException e) {
            assertOneLine(e.getMessage(), input);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void parseObserverConfig(byte[] input) {
        String yaml = new String(input, StandardCharsets.UTF_8);
        try {
            ObserverConfigLoader.parse(yaml, "fuzz.yaml");
        } catch (InvalidObserverConfigException e) {
            assertOneLine(e.getMessage(), input);
        }
    }

    private void decode(byte[] input, String contentType) {
        if (input.length == 0) {
            return;
        }
        int selector = input[0] & 0xff;
        ObserverSpec spec = SPECS[selector % SPECS.length];
        NonFinitePolicy policy = POLICIES[(selector / SPECS.length) % POLICIES.length];
        byte[] value = Arrays.copyOfRange(input, 1, input.length);
        try {
            decoder.decode(value, contentType, spec, policy);
        } catch (InvalidBatchException e) {
            assertOneLine(e.getMessage(), input);
            if (e.getMessage().startsWith("cannot decode batch")) {
                fail(
                        "an unexpected exception was converted ("
                                + spec
                                + ", "
                                + policy
                                + "): "
                                + e.getMessage());
            }
        }
    }

    private static void assertOneLine(String reason, byte[] input) {
        assertFalse(
                reason == null
                        || reason.isBlank()
                        || reason.contains("\n")
                        || reason.contains("\r"),
                "reason must be one non-blank line: "
                        + reason
                        + " for input of "
                        + input.length
                        + " bytes");
    }
}
