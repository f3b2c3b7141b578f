package io.qparams.export.formats;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportFormat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code json}: one JSON object keyed by the exported name, whose values are the tensors' latest
 * records exactly as they were read (every field, the floats' text untouched; the record's {@code
 * tensor} keeps the tensor name when {@code --rename} gave another key). One tensor per line
 * (docs/schema/export.schema.json).
 */
public final class JsonExport implements ExportFormat {
    @Override
    public String name() {
        return "json";
    }

    @Override
    public void write(List<ExportEntry> entries, Path target, PrintStream notes)
            throws IOException {
        JsonStringEncoder quote = JsonStringEncoder.getInstance();
        try (OutputStream out = Files.newOutputStream(target)) {
            out.write('{');
            for (int i = 0; i < entries.size(); i++) {
                ExportEntry e = entries.get(i);
                out.write(
                        i == 0
                                ? "\n\"".getBytes(StandardCharsets.UTF_8)
                                : ",\n\"".getBytes(StandardCharsets.UTF_8));
                out.write(quote.quoteAsUTF8(e.name()));
                out.write("\": ".getBytes(StandardCharsets.UTF_8));
                out.write(e.json());
            }
            out.write("\n}\n".getBytes(StandardCharsets.UTF_8));
        }
    }
}
