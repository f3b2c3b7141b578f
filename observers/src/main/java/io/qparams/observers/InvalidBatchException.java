package io.qparams.observers;

/**
 * A batch that cannot be applied to an observer (wrong channel count, a non-finite value under the
 * {@code reject} policy, ...). The message is a one-line reason fit for a dead-letter header; the
 * observer state is left exactly as it was.
 */
public final class InvalidBatchException extends Exception {
    public InvalidBatchException(String message) {
        super(message, null, false, false);
    }
}
