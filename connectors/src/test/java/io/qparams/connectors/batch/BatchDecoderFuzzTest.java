package io.qparams.connectors.batch;

import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverSpec;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Whatever the bytes, decode returns a batch, null, or an InvalidBatchException with a one-line
 * reason: never another exception. Seeds are fixed, so a failure reproduces.
 */
class BatchDecoderFuzzTest {
    private static final ObserverSpec[] SPECS = {
        Fixtures.perTensor(),
        Fixtures.perChannel(0),
        Fixtures.perChannel(-1),
        Fixtures.perChannel(2)
    };

    private final BatchDecoder decoder = new BatchDecoder(1 << 20);

    private void decodeAnything(byte[] value, String what, Random random) {
        ObserverSpec spec = SPECS[random.nextInt(SPECS.length)];
        NonFinitePolicy policy = NonFinitePolicy.values()[random.nextInt(3)];
        String contentType = random.nextInt(4) == 0 ? "application/json" : null;
        try {
            decoder.decode(value, contentType, spec, policy);
        } catch (InvalidBatchException e) {
            String reason = e.getMessage();
            assertFalse(
                    reason == null || reason.isBlank() || reason.contains("\n"),
                    what + ": " + reason);
            if (reason.startsWith("cannot decode batch")) {
                fail(what + ": an unexpected exception was converted: " + reason);
            }
        } catch (Throwable t) {
            throw new AssertionError(what + " (" + spec + ", " + policy + "): " + t, t);
        }
    }

    private static List<byte[]> seeds() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        for (Map<String, Object> fixture : Fixtures.expectations()) {
            seeds.add(Fixtures.resource((String) fixture.get("file")));
        }
        seeds.add(Fixtures.utf8("{\"min\": [-1, 0, 2], \"max\": [1, 3, 4]}"));
        seeds.add(Fixtures.utf8("{\"min\": -1.5, \"max\": 2e3}"));
        return seeds;
    }

    @Test
    void everyTruncation() throws IOException {
        Random random = new Random(1);
        for (byte[] seed : seeds()) {
            if (random.nextInt(4) != 0) {
                continue;
            }
            for (int length = 0; length < seed.length; length++) {
                decodeAnything(Arrays.copyOf(seed, length), "truncated to " + length, random);
            }
        }
    }

    @Test
    void randomMutations() throws IOException {
        Random random = new Random(2);
        List<byte[]> seeds = seeds();
        for (int i = 0; i < 30000; i++) {
            byte[] value = seeds.get(random.nextInt(seeds.size())).clone();
            int edits = 1 + random.nextInt(4);
            for (int e = 0; e < edits && value.length > 0; e++) {
                int at = random.nextInt(value.length);
                switch (random.nextInt(4)) {
                    case 0:
                        value[at] = (byte) random.nextInt(256);
                        break;
                    case 1:
                        value[at] = (byte) "0123456789(),[]{}'\":-. TFe".charAt(random.nextInt(26));
                        break;
                    case 2:
                        value = Arrays.copyOf(value, at);
                        break;
                    default:
                        value[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            decodeAnything(value, "mutation " + i, random);
        }
    }

    @Test
    void randomHeadersWithMagic() {
        Random random = new Random(3);
        String alphabet = "{}()[],:' \"descrfortan_ohpTFu<>|=fi2481-0LN\n";
        for (int i = 0; i < 20000; i++) {
            StringBuilder header = new StringBuilder();
            int length = random.nextInt(80);
            for (int k = 0; k < length; k++) {
                header.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            byte[] data = new byte[random.nextInt(64)];
            random.nextBytes(data);
            decodeAnything(
                    Fixtures.npy(1 + random.nextInt(3), header.toString(), data),
                    "header " + header,
                    random);
        }
    }

    @Test
    void randomJson() {
        Random random = new Random(4);
        String[] tokens = {
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"shape\"",
            "\"data\"",
            "\"min\"",
            "\"max\"",
            "1",
            "-2.5",
            "1e400",
            "0",
            "3",
            "\"NaN\"",
            "\"Infinity\"",
            "true",
            "null",
            " ",
            "\"x\""
        };
        for (int i = 0; i < 30000; i++) {
            StringBuilder json = new StringBuilder();
            int length = random.nextInt(40);
            for (int k = 0; k < length; k++) {
                json.append(tokens[random.nextInt(tokens.length)]);
            }
            decodeAnything(
                    json.toString().getBytes(StandardCharsets.UTF_8), "json " + json, random);
        }
        // structurally valid shapes with random data layouts
        for (int i = 0; i < 5000; i++) {
            String shape = "[" + random.nextInt(3) + ", " + random.nextInt(3) + "]";
            String data = random.nextBoolean() ? "[[1, 2], [3, 4]]" : "[1, 2, 3, [4]]";
            decodeAnything(
                    Fixtures.utf8("{\"shape\": " + shape + ", \"data\": " + data + "}"),
                    shape + data,
                    random);
        }
    }
}
