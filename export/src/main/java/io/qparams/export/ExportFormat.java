package io.qparams.export;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * One export format (docs/export.md): writes the selected entries to a file or a directory. It
 * refuses, with an {@link ExportException} naming the tensor, a record it cannot express; since
 * {@link Exporter} gives it a staging path, a refusal part-way leaves nothing behind.
 */
public interface ExportFormat {
    /** The name {@code --format} takes. */
    String name();

    /** Whether {@link #write} makes a directory rather than a file. */
    default boolean writesDirectory() {
        return false;
    }

    /**
     * Writes the export at {@code target} (which does not exist yet); notes (skipped records and
     * the like) go to {@code notes}, one line each.
     */
    void write(List<ExportEntry> entries, Path target, PrintStream notes)
            throws IOException, ExportException;
}
