package io.qparams.export;

/**
 * What an export cannot do, in one line that names the tensor or file: a record a format cannot
 * express, a bad records file or rename map, an unreachable topic. The CLI prints it and exits 2;
 * nothing is written.
 */
public final class ExportException extends Exception {
    public ExportException(String message) {
        super(message, null, false, false);
    }
}
