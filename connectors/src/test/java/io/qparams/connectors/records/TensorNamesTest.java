package io.qparams.connectors.records;

import io.qparams.observers.InvalidBatchException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TensorNamesTest {
    private static String reason(byte[] key) {
        return assertThrows(InvalidBatchException.class, () -> TensorNames.of(key)).getMessage();
    }

    @Test
    void namesAreUtf8WithoutControlCharacters() throws Exception {
        assertEquals("encoder.layer.0.output", TensorNames.of(utf8("encoder.layer.0.output")));
        assertEquals(
                "run-7/features.conv1.output", TensorNames.of(utf8("run-7/features.conv1.output")));
        assertEquals("блок.0.выход ü", TensorNames.of(utf8("блок.0.выход ü")));
        assertEquals("x".repeat(512), TensorNames.of(utf8("x".repeat(512))));
    }

    @Test
    void anythingElseIsRefusedWithItsReason() {
        assertEquals(TensorNames.NO_KEY, reason(null));
        assertEquals(TensorNames.NO_KEY, reason(new byte[0]));
        assertEquals(
                "tensor name of 513 bytes: at most 512 bytes of UTF-8 are taken",
                reason(utf8("x".repeat(513))));
        assertEquals(
                "tensor name of 514 bytes: at most 512 bytes of UTF-8 are taken",
                reason(utf8("ü".repeat(257))));
        assertEquals("tensor name is not valid UTF-8", reason(new byte[] {'a', (byte) 0xc3}));
        assertEquals(
                "tensor name is not valid UTF-8",
                reason(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}));
        assertEquals(
                "tensor name 'a b' holds a control character (U+000A) at character 1",
                reason(utf8("a\nb")));
        assertEquals(
                "tensor name 'ü ' holds a control character (U+0000) at character 1",
                reason(utf8("ü\0")));
        assertEquals(
                "tensor name 'a ' holds a control character (U+007F) at character 1",
                reason(utf8("a\u007f")));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
