package io.qparams.export;

import io.qparams.connectors.records.JsonValues;
import io.qparams.observers.ObserverConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.regex.Pattern;

/**
 * Which tensors an export holds and what the model calls them: {@code --match GLOB} (repeatable; a
 * tensor is kept when any glob matches it; {@code *} any run of characters, dots included, {@code
 * ?} one character, as in the observer config) and {@code --rename FILE} (tensor name -> model
 * name, a JSON object or two-column text: one {@code TENSOR MODEL_NAME} pair per line, blank lines
 * and {@code #} comments ignored). Tensors the map does not name keep their names.
 */
public final class TensorSelection {
    private final List<Pattern> match;
    private final Map<String, String> rename;
    private final Path renameFile;

    private TensorSelection(List<Pattern> match, Map<String, String> rename, Path renameFile) {
        this.match = match;
        this.rename = rename;
        this.renameFile = renameFile;
    }

    /**
     * @param globs the --match globs, empty for every tensor
     * @param renameFile the --rename file, or null
     */
    public static TensorSelection of(List<String> globs, Path renameFile) throws ExportException {
        List<Pattern> patterns = new ArrayList<>();
        for (String glob : globs) {
            patterns.add(ObserverConfig.Rule.globToRegex(glob));
        }
        Map<String, String> rename = renameFile == null ? Map.of() : readRename(renameFile);
        return new TensorSelection(patterns, rename, renameFile);
    }

    /**
     * The entries to export, in tensor-name order, named as the model names them. Refuses two
     * tensors given one model name; notes on {@code notes} the rename entries that name no tensor
     * of the export, and a selection that leaves nothing.
     */
    public List<ExportEntry> select(SortedMap<String, ExportEntry> latest, PrintStream notes)
            throws ExportException {
        List<ExportEntry> out = new ArrayList<>();
        Map<String, String> byName = new HashMap<>();
        for (ExportEntry e : latest.values()) {
            if (!matches(e.tensor())) {
                continue;
            }
            String name = rename.getOrDefault(e.tensor(), e.tensor());
            String other = byName.putIfAbsent(name, e.tensor());
            if (other != null) {
                throw new ExportException(
                        "tensors '"
                                + other
                                + "' and '"
                                + e.tensor()
                                + "' would both be exported as '"
                                + name
                                + "' (--rename "
                                + renameFile
                                + ")");
            }
            out.add(new ExportEntry(name, e.record(), e.json()));
        }
        List<String> unused = new ArrayList<>();
        for (String tensor : rename.keySet()) {
            if (!latest.containsKey(tensor) || !matches(tensor)) {
                unused.add(tensor);
            }
        }
        if (!unused.isEmpty()) {
            notes.printf(
                    "export: %d --rename entries name no exported tensor: %s%n",
                    unused.size(), abbreviate(unused));
        }
        return out;
    }

    /** Whether the --match globs keep {@code tensor} (every tensor without --match). */
    public boolean matches(String tensor) {
        if (match.isEmpty()) {
            return true;
        }
        for (Pattern p : match) {
            if (p.matcher(tensor).matches()) {
                return true;
            }
        }
        return false;
    }

    /** The first five names, then how many more: for one-line messages. */
    public static String abbreviate(List<String> names) {
        return names.size() <= 5
                ? String.join(", ", names)
                : String.join(", ", names.subList(0, 5))
                        + ", ... ("
                        + (names.size() - 5)
                        + " more)";
    }

    private static Map<String, String> readRename(Path file) throws ExportException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ExportException("--rename: no such file: " + file);
        } catch (IOException e) {
            throw new ExportException("--rename: cannot read " + file + ": " + e.getMessage());
        }
        Map<String, String> map = new LinkedHashMap<>();
        if (text.stripLeading().startsWith("{")) {
            Object parsed;
            try {
                parsed = JsonValues.parse(text.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new ExportException(
                        "--rename " + file + ": not JSON (" + e.getMessage() + ")");
            }
            for (Map.Entry<?, ?> e : ((Map<?, ?>) parsed).entrySet()) {
                if (!(e.getValue() instanceof String name) || name.isEmpty()) {
                    throw new ExportException(
                            "--rename "
                                    + file
                                    + ": the name of '"
                                    + e.getKey()
                                    + "' must be a non-empty string");
                }
                map.put((String) e.getKey(), name);
            }
            return map;
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cols = line.split("\\s+");
            if (cols.length != 2) {
                throw new ExportException(
                        "--rename "
                                + file
                                + ":"
                                + (i + 1)
                                + ": expected 'TENSOR MODEL_NAME', got '"
                                + line
                                + "'");
            }
            if (map.put(cols[0], cols[1]) != null) {
                throw new ExportException(
                        "--rename " + file + ":" + (i + 1) + ": '" + cols[0] + "' renamed twice");
            }
        }
        return map;
    }
}
