package io.qparams.export;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Writes an export so that {@code --out} never holds half a file: the format writes a staging name
 * next to it ({@code .NAME.tmp-RANDOM}, same folder, same file system), which is then renamed over
 * {@code --out} in one step (a file atomically replaces an earlier export; a directory replaces one
 * in two renames, the earlier export moved aside first and deleted after). On any failure the
 * staging name is deleted and {@code --out} is as it was.
 */
public final class Exporter {
    private Exporter() {}

    public static void export(
            ExportFormat format, List<ExportEntry> entries, Path out, PrintStream notes)
            throws IOException, ExportException {
        replace(
                out,
                format.writesDirectory(),
                "the " + format.name() + " format",
                staging -> format.write(entries, staging, notes));
    }

    /** Writes a file or a folder at the staging name it is given (which does not exist yet). */
    @FunctionalInterface
    public interface Staged {
        void write(Path staging) throws IOException, ExportException;
    }

    /**
     * Replaces {@code out} with what {@code writer} writes, never leaving it half written (as
     * above): for any command that writes a file or a folder of results.
     *
     * @param directory whether the writer makes a folder rather than a file
     * @param writerName who writes, for the message when {@code out} is of the other kind
     */
    public static void replace(Path out, boolean directory, String writerName, Staged writer)
            throws IOException, ExportException {
        Path target = out.toAbsolutePath().normalize();
        Path folder = target.getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new ExportException("--out " + out + ": no folder " + folder);
        }
        if (Files.isDirectory(target) != directory && Files.exists(target)) {
            throw new ExportException(
                    "--out "
                            + out
                            + ": exists and is "
                            + (Files.isDirectory(target) ? "a folder" : "a file")
                            + "; "
                            + writerName
                            + " writes "
                            + (directory ? "a folder" : "a file"));
        }
        Path staging = sibling(target, "tmp");
        boolean done = false;
        try {
            writer.write(staging);
            if (directory && Files.exists(target)) {
                Path aside = sibling(target, "old");
                Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
                try {
                    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    Files.move(
                            aside,
                            target,
                            StandardCopyOption.ATOMIC_MOVE); // the earlier export back
                    throw e;
                }
                deleteTree(aside);
            } else {
                move(staging, target);
            }
            done = true;
        } finally {
            if (!done) {
                deleteTree(staging);
            }
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(
                    from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static Path sibling(Path target, String what) {
        String random = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        return target.resolveSibling("." + target.getFileName() + "." + what + "-" + random);
    }

    static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder())
                    .forEach(
                            p -> {
                                try {
                                    Files.delete(p);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
