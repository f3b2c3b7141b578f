package io.qparams.connectors.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
    @Test
    void headerNames() {
        assertEquals("qparams.error", DeadLetters.ERROR);
        assertEquals("qparams.source.topic", DeadLetters.SOURCE_TOPIC);
        assertEquals("qparams.source.partition", DeadLetters.SOURCE_PARTITION);
        assertEquals("qparams.source.offset", DeadLetters.SOURCE_OFFSET);
    }

    @Test
    void oneLine() {
        assertEquals("a b  c d e", DeadLetters.oneLine("a\nb\r\nc\td\u2028e"));
        assertEquals("bad", DeadLetters.oneLine("  bad\n"));
        assertEquals("unknown error", DeadLetters.oneLine(null));
        assertEquals("unknown error", DeadLetters.oneLine(" \n"));
        String longReason = "x".repeat(5000);
        String capped = DeadLetters.oneLine(longReason);
        assertEquals(DeadLetters.MAX_REASON_CHARS, capped.length());
        assertTrue(capped.endsWith("..."));
        String surrogates = "y".repeat(996) + "\ud83d\ude00".repeat(10);
        String cut = DeadLetters.oneLine(surrogates);
        assertFalse(Character.isHighSurrogate(cut.charAt(cut.length() - 4)), cut.substring(990));
        assertEquals("why", new String(DeadLetters.errorHeaderValue("why\n"), StandardCharsets.UTF_8));
        assertEquals("x".repeat(40) + "...", DeadLetters.excerpt("x".repeat(41)));
    }
}
