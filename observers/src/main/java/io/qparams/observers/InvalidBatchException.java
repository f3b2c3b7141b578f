package io.qparams.observers;

/**
 * A batch that cannot be applied to an observer (wrong channel count, a non-finite value under the
 * {@code reject} policy, ...). The message is a one-line reason fit for a dead-letter header; the
 * observer state is left exactly as it was.
 */
public final class InvalidBatchException extends Exception {
    /**
     * Refused for its NaN or infinite values under the {@code nonfinite} policy: the job counts
     * these apart from malformed input (a producer's numbers, not its format, went wrong), without
     * reading the message.
     */
    private final boolean nonFinite;

    public InvalidBatchException(String message) {
        this(message, false);
    }

    private InvalidBatchException(String message, boolean nonFinite) {
        super(message, null, false, false);
        this.nonFinite = nonFinite;
    }

    /** A batch refused for its non-finite values (see {@link NonFinitePolicy}). */
    public static InvalidBatchException nonFinite(String message) {
        return new InvalidBatchException(message, true);
    }

    public boolean isNonFinite() {
        return nonFinite;
    }

    /** The same refusal with another message (a reason made one line, say). */
    public InvalidBatchException withMessage(String message) {
        return new InvalidBatchException(message, nonFinite);
    }
}
