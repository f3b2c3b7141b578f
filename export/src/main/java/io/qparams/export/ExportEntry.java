package io.qparams.export;

import io.qparams.connectors.records.QParamsRecord;

/**
 * One tensor to export: the name the model knows it by (the tensor name, or its {@code --rename}),
 * its latest record, and that record's JSON text as it was read (for formats that copy it).
 */
public record ExportEntry(String name, QParamsRecord record, byte[] json) {
    public String tensor() {
        return record.tensor();
    }
}
