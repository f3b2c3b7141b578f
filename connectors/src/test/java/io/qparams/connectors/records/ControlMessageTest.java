package io.qparams.connectors.records;

import io.qparams.observers.InvalidBatchException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlMessageTest {
    @ParameterizedTest
    @ValueSource(strings = {"{\"op\": \"reset\"}", "{\"op\":\"reset\"}", " {\"op\" : \"reset\"}\n"})
    void reset(String value) throws InvalidBatchException {
        assertTrue(ControlMessage.parse(value.getBytes(StandardCharsets.UTF_8)).isReset());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "''|has no value",
                "{\"op\": \"flush\"}|unknown control op 'flush'",
                "{\"op\": \"RESET\"}|unknown control op 'RESET'",
                "{}|lacks 'op'",
                "{\"op\": 1}|'op' must be a string",
                "{\"op\": \"reset\", \"tensor\": \"x\"}|unknown key 'tensor'",
                "{\"op\": \"reset\", \"op\": \"reset\"}|'op' twice",
                "[\"reset\"]|must be a JSON object",
                "reset|not valid JSON",
                "{\"op\": \"reset\"|not valid JSON",
                "{\"op\": \"reset\"} {}|content after"
            })
    void refused(String value, String reason) {
        InvalidBatchException e =
                assertThrows(
                        InvalidBatchException.class,
                        () -> ControlMessage.parse(value.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void nullAndBinary() throws InvalidBatchException {
        assertThrows(InvalidBatchException.class, () -> ControlMessage.parse(null));
        assertThrows(
                InvalidBatchException.class,
                () -> ControlMessage.parse(new byte[] {(byte) 0x93, 0, (byte) 0xff}));
        assertTrue(ControlMessage.parse(ControlMessage.reset().toBytes()).isReset());
    }
}
