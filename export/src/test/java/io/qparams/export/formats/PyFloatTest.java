package io.qparams.export.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PyFloat#repr} against Python's own repr (Debian's /usr/bin/python3, as CI installs it).
 */
class PyFloatTest {
    @TempDir Path dir;

    @Test
    void layoutOfKnownValues() {
        assertEquals("2.0", PyFloat.repr(2.0));
        assertEquals("6.0", PyFloat.repr(6f));
        assertEquals("0.0", PyFloat.repr(0.0));
        assertEquals("-0.0", PyFloat.repr(-0.0));
        assertEquals("0.0001", PyFloat.repr(1e-4));
        assertEquals("1e-05", PyFloat.repr(1e-5));
        assertEquals("1.5e-05", PyFloat.repr(1.5e-5));
        assertEquals("1000000000000000.0", PyFloat.repr(1e15));
        assertEquals("1e+16", PyFloat.repr(1e16));
        assertEquals("2.00833797454834", PyFloat.repr((double) 2.008338f));
        assertEquals("-123.25", PyFloat.repr(-123.25));
        assertEquals("3.4028234663852886e+38", PyFloat.repr(Float.MAX_VALUE));
    }

    @Test
    void equalsPythonsReprOnFloat32Values() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assertTrue(Files.isExecutable(python), "needs /usr/bin/python3 (Debian's; CI has it)");
        Random random = new Random(42);
        List<Double> values = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            float f =
                    switch (i % 3) {
                        case 0 -> Float.intBitsToFloat(random.nextInt());
                        case 1 ->
                                (float)
                                        (random.nextGaussian()
                                                * Math.pow(10, random.nextInt(40) - 20));
                        default -> (float) random.nextInt(100_000) / (1 << random.nextInt(20));
                    };
            if (Float.isFinite(f)) {
                values.add((double) f);
            }
        }
        // The values go through a file: Python's output fills its pipe while it reads, so writing
        // them to its stdin and reading its stdout in one thread would deadlock.
        Path input = dir.resolve("values.txt");
        List<String> hex = new ArrayList<>();
        for (double v : values) {
            hex.add(Double.toHexString(v));
        }
        Files.write(input, hex);
        Process p =
                new ProcessBuilder(
                                python.toString(),
                                "-c",
                                "import sys\nfor line in open(sys.argv[1]):"
                                        + " print(repr(float.fromhex(line.strip())))",
                                input.toString())
                        .redirectErrorStream(true)
                        .start();
        List<String> expected = new ArrayList<>();
        try (BufferedReader r =
                new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                expected.add(line);
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "python: " + expected);
        assertEquals(values.size(), expected.size());
        for (int i = 0; i < values.size(); i++) {
            assertEquals(
                    expected.get(i),
                    PyFloat.repr(values.get(i)),
                    Double.toHexString(values.get(i)));
        }
    }
}
