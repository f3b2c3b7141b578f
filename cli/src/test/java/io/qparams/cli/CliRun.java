package io.qparams.cli;

import io.qparams.connectors.records.ContractSchemas;
import io.qparams.connectors.records.QParamsRecord;
import io.qparams.connectors.records.QParamsRecordDecoder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One in-process run of {@code qparams <command> <args...>}: its exit status, stdout and stderr.
 */
record CliRun(int status, String out, String err) {

    static CliRun of(String command, String... args) {
        String[] full = new String[args.length + 1];
        full[0] = command;
        System.arraycopy(args, 0, full, 1, args.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status =
                QParams.run(
                        full,
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(
                status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Stdout's non-empty lines, each checked against the record schema and decoded. */
    List<QParamsRecord> records() throws IOException {
        List<QParamsRecord> records = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isEmpty()) {
                ContractSchemas.assertRecord(line.getBytes(StandardCharsets.UTF_8));
                records.add(QParamsRecordDecoder.decode(line.getBytes(StandardCharsets.UTF_8)));
            }
        }
        return records;
    }
}
