package io.qparams.connectors.batch;

import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.stream.Stream;

import static io.qparams.connectors.batch.Fixtures.f4;
import static io.qparams.connectors.batch.Fixtures.npy;
import static io.qparams.connectors.batch.Fixtures.perChannel;
import static io.qparams.connectors.batch.Fixtures.perTensor;
import static io.qparams.connectors.batch.Fixtures.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Each kind of malformed or refused batch gives an InvalidBatchException with a one-line reason
 * naming it.
 */
class MalformedBatchTest {
    private static final String OK_DICT =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    private static final byte[] THREE = f4(1, 2, 3);

    private final BatchDecoder decoder = new BatchDecoder();

    private static Arguments npyCase(String name, byte[] value, String reason) {
        return arguments(name, value, perTensor(), NonFinitePolicy.REJECT, reason);
    }

    private static Arguments header(String name, String dict, String reason) {
        return npyCase(name, npy(1, dict, THREE), reason);
    }

    private static Arguments json(
            String name, String value, ObserverSpec spec, NonFinitePolicy policy, String reason) {
        return arguments(name, utf8(value), spec, policy, reason);
    }

    private static Arguments json(String name, String value, String reason) {
        return json(name, value, perTensor(), NonFinitePolicy.REJECT, reason);
    }

    static Stream<Arguments> cases() {
        byte[] valid = npy(1, OK_DICT, THREE);
        byte[] version40 = valid.clone();
        version40[6] = 4;
        byte[] version11 = valid.clone();
        version11[7] = 1;
        byte[] longHeader = valid.clone();
        longHeader[8] = (byte) 0xff;
        longHeader[9] = (byte) 0xff;
        byte[] badUtf8 =
                npy(
                        3,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x\u00e9': 1}",
                        THREE);
        for (int i = 0; i < badUtf8.length - 1; i++) {
            if (badUtf8[i] == (byte) 0xc3) {
                badUtf8[i + 1] = (byte) 0x28; // breaks the two-byte sequence of the accented letter
            }
        }
        return Stream.of(
                npyCase(
                        "truncated magic",
                        new byte[] {(byte) 0x93, 'N', 'U'},
                        "truncated NPY magic"),
                npyCase(
                        "bad magic bytes",
                        new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'X', 1, 0},
                        "magic is not"),
                npyCase("magic without version", Arrays.copyOf(valid, 6), "no format version"),
                npyCase("unknown version 4.0", version40, "unsupported NPY format version 4.0"),
                npyCase("unknown version 1.1", version11, "unsupported NPY format version 1.1"),
                npyCase(
                        "truncated length field",
                        Arrays.copyOf(npy(2, OK_DICT, THREE), 10),
                        "header length field"),
                npyCase("header longer than record", longHeader, "it claims 65535 bytes"),
                npyCase("truncated header", Arrays.copyOf(valid, 30), "truncated NPY header"),
                npyCase("invalid utf-8 in 3.0 header", badUtf8, "not valid UTF-8"),
                header("header not a dict", "[1, 2]", "not a dict"),
                header(
                        "unclosed dict",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)",
                        "Python dict literal"),
                header(
                        "garbage in header",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk",
                        "unexpected content after the dict"),
                header(
                        "unknown name",
                        "{'descr': '<f4', 'fortran_order': false, 'shape': (3,)}",
                        "unexpected name 'false'"),
                header(
                        "escape in string",
                        "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (3,)}",
                        "escape"),
                header(
                        "duplicate key",
                        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
                        "duplicate key 'descr'"),
                header(
                        "missing shape",
                        "{'descr': '<f4', 'fortran_order': False}",
                        "lacks 'shape'"),
                header("missing descr", "{'fortran_order': False, 'shape': (3,)}", "lacks 'descr'"),
                header(
                        "extra key",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'foo': 1}",
                        "unexpected key 'foo'"),
                header(
                        "shape as list",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': [3]}",
                        "must be a tuple"),
                header(
                        "shape without comma",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (3)}",
                        "must be a tuple"),
                header(
                        "negative dimension",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}",
                        "non-negative"),
                header(
                        "float dimension",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (3.0,)}",
                        "non-negative integers"),
                header(
                        "dimension beyond long",
                        "{'descr': '<f4', 'fortran_order': False, 'shape':"
                                + " (99999999999999999999,)}",
                        "is too large"),
                header(
                        "fortran_order not bool",
                        "{'descr': '<f4', 'fortran_order': 'yes', 'shape': (3,)}",
                        "'fortran_order' must be True or False"),
                header(
                        "descr not a string",
                        "{'descr': 5, 'fortran_order': False, 'shape': (3,)}",
                        "'descr' must be a string"),
                header(
                        "structured dtype",
                        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}",
                        "structured dtypes are not supported"),
                header(
                        "bool dtype",
                        "{'descr': '|b1', 'fortran_order': False, 'shape': (12,)}",
                        "'|b1' (bool) is not supported"),
                header(
                        "complex dtype",
                        "{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}",
                        "(complex)"),
                header(
                        "object dtype",
                        "{'descr': '|O', 'fortran_order': False, 'shape': (3,)}",
                        "(object)"),
                header(
                        "unicode dtype",
                        "{'descr': '<U1', 'fortran_order': False, 'shape': (3,)}",
                        "(string)"),
                header(
                        "bytes dtype",
                        "{'descr': '|S4', 'fortran_order': False, 'shape': (3,)}",
                        "(string)"),
                header(
                        "uint64 dtype",
                        "{'descr': '<u8', 'fortran_order': False, 'shape': (3,)}",
                        "(uint64)"),
                header(
                        "datetime dtype",
                        "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (3,)}",
                        "(datetime)"),
                header(
                        "long double",
                        "{'descr': '<f16', 'fortran_order': False, 'shape': (3,)}",
                        "float of unsupported size"),
                header(
                        "data too short",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}",
                        "NPY data holds 12 bytes but shape (4,) of 4-byte elements needs 16 bytes"),
                header(
                        "data too long",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
                        "NPY data holds 12 bytes but shape (2,) of 4-byte elements needs 8 bytes"),
                header(
                        "huge claimed shape",
                        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,)}",
                        "needs 8000000000000 bytes"),
                header(
                        "shape overflowing long",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296,"
                                + " 4294967296)}",
                        "too many elements"),
                arguments(
                        "per-channel axis of a 1-d batch",
                        npy(1, OK_DICT, THREE),
                        perChannel(0),
                        NonFinitePolicy.REJECT,
                        "ch_axis 0 does not fit a 1-d batch"),
                arguments(
                        "NaN under reject (NPY)",
                        npy(1, OK_DICT, f4(1, Float.NaN, 3)),
                        perTensor(),
                        NonFinitePolicy.REJECT,
                        "batch holds NaN (nonfinite: reject)"),
                arguments(
                        "inf under reject (NPY)",
                        npy(1, OK_DICT, f4(1, Float.POSITIVE_INFINITY, 3)),
                        perTensor(),
                        NonFinitePolicy.REJECT,
                        "batch holds infinite values"),
                arguments(
                        "nothing finite under ignore (NPY)",
                        npy(1, OK_DICT, f4(Float.NaN, Float.NEGATIVE_INFINITY, Float.NaN)),
                        perTensor(),
                        NonFinitePolicy.IGNORE,
                        "no finite values"),
                json("JSON syntax error", "{\"shape\": [2], \"data\": [1, 2", "invalid JSON"),
                json("JSON bare NaN", "{\"shape\": [1], \"data\": [NaN]}", "invalid JSON"),
                json(
                        "JSON unknown non-ASCII key",
                        "{\"min\": 1, \"max\": 2, \"\u00ff\": 3}",
                        "unknown key '\u00ff'"),
                arguments(
                        "JSON bytes not UTF-8",
                        new byte[] {'{', '"', (byte) 0xc3, (byte) 0x28, '"', ':', '1', '}'},
                        perTensor(),
                        NonFinitePolicy.REJECT,
                        "invalid JSON"),
                json("JSON not an object", "[1, 2, 3]", "must be an object, got a list"),
                json("JSON empty object", "{}", "JSON batch is empty"),
                json(
                        "JSON unknown key",
                        "{\"shape\": [1], \"data\": [1], \"dtype\": \"f4\"}",
                        "unknown key 'dtype'"),
                json(
                        "JSON tensor and stats keys",
                        "{\"shape\": [1], \"data\": [1], \"min\": 1}",
                        "mixes tensor keys"),
                json(
                        "JSON stats then tensor key",
                        "{\"min\": 1, \"max\": 2, \"data\": [1]}",
                        "mixes tensor keys"),
                json(
                        "JSON duplicate key",
                        "{\"shape\": [1], \"shape\": [1], \"data\": [1]}",
                        "'shape' twice"),
                json("JSON lacks shape", "{\"data\": [1, 2]}", "lacks 'shape'"),
                json("JSON lacks data", "{\"shape\": [2]}", "lacks 'data'"),
                json(
                        "JSON shape of floats",
                        "{\"shape\": [2.0], \"data\": [1, 2]}",
                        "non-negative integers, got 2.0 in it"),
                json(
                        "JSON negative shape",
                        "{\"shape\": [-2], \"data\": [1, 2]}",
                        "non-negative integers, got -2"),
                json(
                        "JSON shape a string",
                        "{\"shape\": \"2\", \"data\": [1, 2]}",
                        "must be a list of non-negative"),
                json(
                        "JSON huge claimed shape",
                        "{\"shape\": [1000000, 1000000], \"data\": [1]}",
                        "claims 1000000000000 values"),
                json(
                        "JSON data a boolean",
                        "{\"shape\": [2], \"data\": [true, 1]}",
                        "holds a boolean where a number belongs"),
                json(
                        "JSON data null",
                        "{\"shape\": [2], \"data\": [1, null]}",
                        "holds null where a number belongs"),
                json("JSON data an object", "{\"shape\": [1], \"data\": [{}]}", "holds an object"),
                json(
                        "JSON data bad string",
                        "{\"shape\": [1], \"data\": [\"nan\"]}",
                        "holds the string \"nan\""),
                json(
                        "JSON data not a list",
                        "{\"shape\": [2], \"data\": 5}",
                        "must be a list for shape [2]"),
                json(
                        "JSON too few values",
                        "{\"shape\": [2, 2], \"data\": [1, 2, 3]}",
                        "holds 3 values but shape [2, 2] needs 4"),
                json(
                        "JSON too many values",
                        "{\"shape\": [2], \"data\": [1, 2, 3]}",
                        "holds more than the 2 values"),
                json(
                        "JSON ragged nesting",
                        "{\"shape\": [2, 2], \"data\": [[1, 2], [3]]}",
                        "data[1] has 1 entries instead of 2"),
                json(
                        "JSON nesting deeper than shape",
                        "{\"shape\": [1, 1], \"data\": [[[1]]]}",
                        "a list where a number belongs"),
                json(
                        "JSON nesting too shallow",
                        "{\"shape\": [2, 2, 1], \"data\": [[1, 2], [3, 4]]}",
                        "data[0] has a number where a list of 1 belongs"),
                json(
                        "JSON nested 1-d",
                        "{\"shape\": [2], \"data\": [[1], [2]]}",
                        "nested deeper than shape [2]"),
                json(
                        "JSON flat mixes lists",
                        "{\"shape\": [2, 1], \"data\": [1, [2]]}",
                        "mixes numbers and nested lists"),
                json(
                        "JSON 0-d with two values",
                        "{\"shape\": [], \"data\": [1, 2]}",
                        "holds more than the 1 values"),
                json(
                        "JSON trailing content",
                        "{\"min\": 1, \"max\": 2} {}",
                        "content after its closing"),
                json(
                        "JSON stats min > max",
                        "{\"min\": 2.5, \"max\": -1}",
                        "stats min > max (2.5 > -1.0)"),
                json(
                        "JSON stats lengths differ",
                        "{\"min\": [1, 2], \"max\": [3, 4, 5]}",
                        perChannel(0),
                        NonFinitePolicy.REJECT,
                        "stats min has 2 entries but max has 3"),
                json(
                        "JSON stats vectors for per-tensor",
                        "{\"min\": [1], \"max\": [2]}",
                        "list stats for per-tensor observer"),
                json(
                        "JSON stats scalars for per-channel",
                        "{\"min\": 1, \"max\": 2}",
                        perChannel(0),
                        NonFinitePolicy.REJECT,
                        "scalar stats for per-channel observer"),
                json(
                        "JSON stats scalar and list",
                        "{\"min\": 1, \"max\": [2]}",
                        "'min' is a scalar but 'max' is a list"),
                json("JSON stats lack max", "{\"min\": 1}", "lack 'max'"),
                json(
                        "JSON stats empty",
                        "{\"min\": [], \"max\": []}",
                        perChannel(0),
                        NonFinitePolicy.REJECT,
                        "empty"),
                json(
                        "JSON stats nested",
                        "{\"min\": [[1]], \"max\": [[2]]}",
                        perChannel(0),
                        NonFinitePolicy.REJECT,
                        "holds a list where a number belongs"),
                json(
                        "JSON stats channel min > max",
                        "{\"min\": [1, 5], \"max\": [2, 4]}",
                        perChannel(0),
                        NonFinitePolicy.REJECT,
                        "min > max in channel 1"),
                json(
                        "JSON NaN under reject",
                        "{\"shape\": [2], \"data\": [1, \"NaN\"]}",
                        "batch holds NaN (nonfinite: reject)"),
                json(
                        "JSON inf under reject",
                        "{\"shape\": [2], \"data\": [1, \"-Infinity\"]}",
                        "holds infinite values"),
                json(
                        "JSON overflow to inf under reject",
                        "{\"shape\": [1], \"data\": [1e39]}",
                        "holds infinite values"),
                json(
                        "JSON nothing finite under ignore",
                        "{\"shape\": [2], \"data\": [\"NaN\", \"Infinity\"]}",
                        perTensor(),
                        NonFinitePolicy.IGNORE,
                        "no finite values"),
                json(
                        "JSON channel without finite values under ignore",
                        "{\"shape\": [2, 2], \"data\": [[1, 2], [\"NaN\", \"NaN\"]]}",
                        perChannel(0),
                        NonFinitePolicy.IGNORE,
                        "no finite values in channel 1"),
                json(
                        "JSON stats NaN under reject",
                        "{\"min\": \"NaN\", \"max\": 1}",
                        "batch holds NaN"),
                json(
                        "JSON stats inf under ignore",
                        "{\"min\": \"-Infinity\", \"max\": 1}",
                        perTensor(),
                        NonFinitePolicy.IGNORE,
                        "holds infinite values (nonfinite: ignore)"),
                json(
                        "JSON stats NaN per channel under reject",
                        "{\"min\": [0, \"NaN\"], \"max\": [1, 1]}",
                        perChannel(0),
                        NonFinitePolicy.REJECT,
                        "NaN in channel 1"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refused(
            String name, byte[] value, ObserverSpec spec, NonFinitePolicy policy, String reason) {
        InvalidBatchException e =
                assertThrows(
                        InvalidBatchException.class,
                        () -> decoder.decode(value, null, spec, policy));
        String message = e.getMessage();
        assertFalse(message.isBlank());
        assertFalse(message.contains("\n") || message.contains("\r"), message);
        boolean matches = Arrays.stream(reason.split("\\|")).anyMatch(message::contains);
        assertTrue(matches, "reason '" + message + "' should contain '" + reason + "'");
        // The job counts non-finite refusals apart (dead letters of reason class nonfinite).
        boolean nonFinite = reason.matches(".*(NaN|infinite values|no finite values).*");
        assertEquals(nonFinite, e.isNonFinite(), "a non-finite refusal? " + message);
    }

    @Test
    void emptyAndMissingValues() {
        assertReason(new byte[0], null, "record value is empty");
        assertReason(null, null, "record has no value");
    }

    @Test
    void oversizedValueRefusedBeforeParsing() {
        BatchDecoder small = new BatchDecoder(16);
        InvalidBatchException e =
                assertThrows(
                        InvalidBatchException.class,
                        () ->
                                small.decode(
                                        new byte[17], null, perTensor(), NonFinitePolicy.REJECT));
        assertTrue(
                e.getMessage().contains("record value of 17 bytes exceeds the limit of 16 bytes"),
                e.getMessage());
    }

    @Test
    void contentTypeWins() {
        assertReason(npy(1, OK_DICT, THREE), "application/json", "invalid JSON");
        assertReason(
                utf8("{\"min\": 1, \"max\": 2}"),
                "application/x-npy; charset=binary",
                "magic is not \\x93NUMPY");
    }

    @Test
    void hugeClaimedShapesAllocateNothingBig() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        byte[] npyHuge =
                npy(
                        1,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 2), }",
                        THREE);
        byte[] npyChannels =
                npy(
                        1,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000, 1), }",
                        THREE);
        byte[] jsonHuge = utf8("{\"shape\": [2000000000, 1], \"data\": [1]}");
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10; i++) {
            assertReason(npyHuge, null, "needs 8000000000000 bytes");
            assertThrows(
                    InvalidBatchException.class,
                    () -> decoder.decode(npyChannels, null, perChannel(0), NonFinitePolicy.REJECT));
            assertThrows(
                    InvalidBatchException.class,
                    () -> decoder.decode(jsonHuge, null, perChannel(0), NonFinitePolicy.REJECT));
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 4 << 20, "allocated " + allocated + " bytes");
    }

    private void assertReason(byte[] value, String contentType, String reason) {
        InvalidBatchException e =
                assertThrows(
                        InvalidBatchException.class,
                        () ->
                                decoder.decode(
                                        value, contentType, perTensor(), NonFinitePolicy.REJECT));
        assertTrue(
                e.getMessage().contains(reason),
                "reason '" + e.getMessage() + "' should contain '" + reason + "'");
    }
}
