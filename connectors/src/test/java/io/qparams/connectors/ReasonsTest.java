package io.qparams.connectors;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReasonsTest {
    @Test
    void oneLine() {
        assertEquals("a b  c d e", Reasons.oneLine("a\nb\r\nc\td\u2028e"));
        assertEquals("bad", Reasons.oneLine("  bad\n"));
        assertEquals("unknown error", Reasons.oneLine(null));
        assertEquals("unknown error", Reasons.oneLine(" \n"));
        String longReason = "x".repeat(5000);
        String capped = Reasons.oneLine(longReason);
        assertEquals(Reasons.MAX_CHARS, capped.length());
        assertTrue(capped.endsWith("..."));
        String surrogates = "y".repeat(996) + "\ud83d\ude00".repeat(10);
        String cut = Reasons.oneLine(surrogates);
        assertFalse(Character.isHighSurrogate(cut.charAt(cut.length() - 4)), cut.substring(990));
    }

    @Test
    void excerpt() {
        assertEquals("x".repeat(40) + "...", Reasons.excerpt("x".repeat(41)));
        assertEquals("a b", Reasons.excerpt("a\nb"));
    }
}
