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

    /** The refused batch's counts when it was decoded and counted first, else null. */
    private final ValueCounts counts;

    public InvalidBatchException(String message) {
        this(message, false, null);
    }

    private InvalidBatchException(String message, boolean nonFinite, ValueCounts counts) {
        super(message, null, false, false);
        this.nonFinite = nonFinite;
        this.counts = counts;
    }

    /** A batch refused for its non-finite values (see {@link NonFinitePolicy}). */
    public static InvalidBatchException nonFinite(String message) {
        return new InvalidBatchException(message, true, null);
    }

    public boolean isNonFinite() {
        return nonFinite;
    }

    /**
     * What the refused batch held, when it was counted before the refusal (a decoded tensor that
     * the non-finite policy refused), else null: the job's non-finite counter counts it too.
     */
    public ValueCounts counts() {
        return counts;
    }

    /** The same refusal with another message (a reason made one line, say). */
    public InvalidBatchException withMessage(String message) {
        return new InvalidBatchException(message, nonFinite, counts);
    }

    /** The same refusal, of a batch that held these values. */
    public InvalidBatchException withCounts(ValueCounts counts) {
        return new InvalidBatchException(getMessage(), nonFinite, counts);
    }
}
