package io.qparams.connectors.records;

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
    /** Longer reasons are cut (a header is for people and grep, not for payloads). */
    public static final int MAX_REASON_CHARS = 1000;

    private DeadLetters() {
    }

    /**
     * The reason as one line: line breaks and other control characters become spaces, and it is
     * capped at {@link #MAX_REASON_CHARS} characters (never splitting a surrogate pair).
     */
    public static String oneLine(String reason) {
        if (reason == null || reason.isBlank()) {
            return "unknown error";
        }
        String text = reason.strip();
        boolean cut = text.length() > MAX_REASON_CHARS;
        int end = cut ? MAX_REASON_CHARS - 3 : text.length();
        if (cut && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        StringBuilder s = new StringBuilder(end + 3);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            s.append(Character.isISOControl(c) || c == '\u2028' || c == '\u2029' ? ' ' : c);
        }
        return cut ? s.append("...").toString() : s.toString();
    }

    /** A producer-supplied string quoted inside a reason: at most 40 characters, then "...". */
    public static String excerpt(String text) {
        String line = oneLine(text);
        return line.length() > 40 ? line.substring(0, 40) + "..." : line;
    }

    /** A header value: UTF-8 bytes of the text (for the error, a reason already made one line). */
    public static byte[] headerValue(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The {@link #ERROR} header's value for a reason. */
    public static byte[] errorHeaderValue(String reason) {
        return headerValue(oneLine(reason));
    }
}
