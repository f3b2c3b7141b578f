package io.qparams.observers;

/** An observer configuration torch would refuse; the message is torch's reason, on one line. */
public final class InvalidObserverConfigException extends IllegalArgumentException {
    public InvalidObserverConfigException(String message) {
        super(message);
    }
}
