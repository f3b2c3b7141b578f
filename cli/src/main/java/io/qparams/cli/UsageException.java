package io.qparams.cli;

/** A bad command line, config or input file: the CLI prints the one-line message and exits 2. */
final class UsageException extends Exception {
    UsageException(String message) {
        super(message, null, false, false);
    }
}
