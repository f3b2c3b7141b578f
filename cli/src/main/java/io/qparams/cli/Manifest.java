package io.qparams.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A calibrate manifest: JSON lines {@code {"tensor": "...", "file": "path"}}, paths relative to the
 * manifest.
 */
final class Manifest {
    private static final JsonFactory JSON = new JsonFactory();

    private Manifest() {}

    static List<CalibrateCommand.BatchFile> read(Path manifest) throws UsageException {
        List<String> lines;
        try {
            lines = Files.readAllLines(manifest, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException(
                    "manifest not readable: " + manifest + " (" + e.getMessage() + ")");
        }
        Path base = manifest.toAbsolutePath().getParent();
        List<CalibrateCommand.BatchFile> batches = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty()) {
                continue;
            }
            batches.add(parseLine(line, base, manifest + ":" + (n + 1) + ": "));
        }
        return batches;
    }

    /**
     * @param where the line's place in the manifest, in front of every reason
     */
    private static CalibrateCommand.BatchFile parseLine(String line, Path base, String where)
            throws UsageException {
        String tensor = null;
        String file = null;
        try (JsonParser parser = JSON.createParser(line)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new UsageException(
                        where + "expected a JSON object {\"tensor\": ..., \"file\": ...}");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                JsonToken token = parser.nextToken();
                if (token != JsonToken.VALUE_STRING) {
                    throw new UsageException(where + "'" + key + "' must be a string");
                }
                if (key.equals("tensor")) {
                    tensor = parser.getText();
                } else if (key.equals("file")) {
                    file = parser.getText();
                } else {
                    throw new UsageException(
                            where + "unknown key '" + key + "' (expected tensor and file)");
                }
            }
            if (parser.nextToken() != null) {
                throw new UsageException(where + "trailing content after the JSON object");
            }
        } catch (JsonProcessingException e) {
            throw new UsageException(where + "not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UsageException(where + "not readable: " + e.getMessage());
        }
        if (tensor == null || tensor.isEmpty() || file == null || file.isEmpty()) {
            throw new UsageException(where + "needs a non-empty \"tensor\" and \"file\"");
        }
        return new CalibrateCommand.BatchFile(tensor, base.resolve(file), file);
    }
}
