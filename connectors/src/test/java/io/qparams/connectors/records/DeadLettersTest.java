package io.qparams.connectors.records;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeadLettersTest {
    @Test
    void headerNames() {
        assertEquals("qparams.error", DeadLetters.ERROR);
        assertEquals("qparams.source.topic", DeadLetters.SOURCE_TOPIC);
        assertEquals("qparams.source.partition", DeadLetters.SOURCE_PARTITION);
        assertEquals("qparams.source.offset", DeadLetters.SOURCE_OFFSET);
    }

    /** The header holds the reason made one line (the one rule, in Reasons.oneLine). */
    @Test
    void errorHeaderValue() {
        assertEquals(
                "why", new String(DeadLetters.errorHeaderValue("why\n"), StandardCharsets.UTF_8));
        assertEquals(
                "a b", new String(DeadLetters.errorHeaderValue("a\rb"), StandardCharsets.UTF_8));
    }
}
