package io.qparams.connectors;

/**
 * Every reason qparams gives (a dead letter's {@code qparams.error} header, a refused config, a
 * refused batch in {@code qparams calibrate}, a bad command line) is one line: people read it in a
 * terminal and grep it in a header. Reasons often quote the producer's own text (a header key, a
 * dtype, a YAML value), which may hold anything: the fuzzers found line breaks and other control
 * characters in them before. This is the one place that makes any text a reason.
 */
public final class Reasons {
    /** Longer reasons are cut (a header is for people and grep, not for payloads). */
    public static final int MAX_CHARS = 1000;

    /** Producer text quoted inside a reason is cut to this many characters. */
    public static final int MAX_EXCERPT_CHARS = 40;

    private Reasons() {}

    /**
     * The text as one line: surrounding blanks stripped, line breaks and other control characters
     * (and the Unicode line and paragraph separators) become spaces, and it is capped at {@link
     * #MAX_CHARS} characters, never splitting a surrogate pair. Null or blank text gives "unknown
     * error".
     */
    public static String oneLine(String text) {
        if (text == null || text.isBlank()) {
            return "unknown error";
        }
        String stripped = text.strip();
        boolean cut = stripped.length() > MAX_CHARS;
        int end = cut ? MAX_CHARS - 3 : stripped.length();
        if (cut && Character.isHighSurrogate(stripped.charAt(end - 1))) {
            end--;
        }
        StringBuilder line = new StringBuilder(end + 3);
        for (int i = 0; i < end; i++) {
            char c = stripped.charAt(i);
            line.append(Character.isISOControl(c) || c == '\u2028' || c == '\u2029' ? ' ' : c);
        }
        return cut ? line.append("...").toString() : line.toString();
    }

    /**
     * A producer-supplied string quoted inside a reason: one line, at most 40 characters, then
     * "...".
     */
    public static String excerpt(String text) {
        String line = oneLine(text);
        return line.length() > MAX_EXCERPT_CHARS
                ? line.substring(0, MAX_EXCERPT_CHARS) + "..."
                : line;
    }
}
