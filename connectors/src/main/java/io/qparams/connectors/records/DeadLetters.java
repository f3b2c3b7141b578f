package io.qparams.connectors.records;

import io.qparams.connectors.Reasons;

import java.nio.charset.StandardCharsets;

/**
 * The dead-letter record's headers (CONTRACT section 4): the original key and value go to the DLQ
 * with these headers, {@link #ERROR} holding one line saying why.
 */
public final class DeadLetters {
    public static final String ERROR = "qparams.error";
    public static final String SOURCE_TOPIC = "qparams.source.topic";
    public static final String SOURCE_PARTITION = "qparams.source.partition";
    public static final String SOURCE_OFFSET = "qparams.source.offset";

    private DeadLetters() {}

    /** A header value: UTF-8 bytes of the text (for the error, a reason already made one line). */
    public static byte[] headerValue(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The {@link #ERROR} header's value for a reason. */
    public static byte[] errorHeaderValue(String reason) {
        return headerValue(Reasons.oneLine(reason));
    }
}
