package io.qparams.export;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.connectors.records.QParamsRecordDecoder;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A JSON-lines file of qparams records (what {@code calibrate} prints, or a dump of the topic),
 * read line by line in file order. Blank lines are skipped; a line that is not a record is refused
 * with its line number.
 */
public final class RecordsFile {
    private RecordsFile() {}

    /** Every record of {@code file}, in order, to {@code visitor} (partition 0, no timestamp). */
    public static void read(Path file, RecordVisitor visitor) throws ExportException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                byte[] json = line.getBytes(StandardCharsets.UTF_8);
                QParamsRecord record;
                try {
                    record = QParamsRecordDecoder.read(json);
                } catch (IOException e) {
                    throw new ExportException(
                            file
                                    + ":"
                                    + number
                                    + ": not a qparams record ("
                                    + e.getMessage()
                                    + ")");
                }
                visitor.record(
                        new ExportEntry(record.tensor(), record, json),
                        0,
                        RecordVisitor.NO_TIMESTAMP);
            }
        } catch (NoSuchFileException e) {
            throw new ExportException("no such file: " + file);
        } catch (IOException e) {
            throw new ExportException("cannot read " + file + ": " + e.getMessage());
        }
    }
}
