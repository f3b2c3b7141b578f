package io.qparams.connectors.kafka;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeadLetterTest {
    private static KafkaInput input(int size) {
        return new KafkaInput(
                "t".getBytes(StandardCharsets.UTF_8),
                new byte[size],
                "application/x-npy",
                "in",
                3,
                42);
    }

    @Test
    void keepsTheOriginalValueUpToTheDeadLetterLimit() {
        DeadLetter letter = DeadLetter.of(input(DeadLetter.MAX_VALUE_BYTES), "too big");
        assertEquals(DeadLetter.MAX_VALUE_BYTES, letter.value.length);
        assertEquals("too big", letter.reason);
        assertTrue(
                DeadLetter.MAX_VALUE_BYTES < Topics.DLQ_MAX_MESSAGE_BYTES,
                "room for key and headers");
    }

    /**
     * A value the DLQ cannot take would fail the sink and restart the job over it forever: it is
     * dropped.
     */
    @Test
    void dropsAValueTheDeadLetterTopicCannotTake() {
        DeadLetter letter =
                DeadLetter.of(
                        input(DeadLetter.MAX_VALUE_BYTES + 1), "record value of N bytes exceeds");
        assertNull(letter.value);
        assertTrue(
                letter.reason.startsWith(
                        "record value of N bytes exceeds (the value of "
                                + (DeadLetter.MAX_VALUE_BYTES + 1)
                                + " bytes is not kept"),
                letter.reason);
        assertArrayEquals("t".getBytes(StandardCharsets.UTF_8), letter.key);
        assertEquals(42, letter.sourceOffset);
        assertEquals(3, letter.sourcePartition);
        assertEquals("application/x-npy", letter.contentType);
    }
}
