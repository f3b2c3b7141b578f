package io.qparams.export.formats;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.ExportFormat;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code ort-calibration}: a folder with what ONNX Runtime's {@code write_calibration_table} writes
 * (onnxruntime/python/tools/quantization/quant_utils.py), plus the TensorQuantOverrides that make
 * {@code quantize_static} use these exact scales and zero points:
 *
 * <ul>
 *   <li>{@code calibration.json}: ORT's TensorsData as its encoder writes it: {@code {"CLS":
 *       "TensorsData", "data": {name: {"lowest": {"data": [min_val], "dtype": "float32", "CLS":
 *       "numpy.array"}, "highest": {...}, "CLS": "TensorData"}}, "calibration_method": {"CLS":
 *       "CalibrationMethod", "value": "CalibrationMethod.MinMax"}}};
 *   <li>{@code calibration.flatbuffers}: the TrtTable of {@link TrtTableFlatBuffer}, key = name,
 *       value = the dynamic range as Python's {@code str(float)} writes it;
 *   <li>{@code calibration.cache}: {@code name value} lines, the same value;
 *   <li>{@code tensor_quant_overrides.json}: {@code {name: [{"scale": s, "zero_point": z,
 *       "quant_type": "QUInt8"}]}}, per channel one dict per channel, the first with {@code "axis"}
 *       (ORT's TensorQuantOverrides; it takes numpy values, docs/export.md shows the load).
 * </ul>
 *
 * The dynamic range is max(|min_val|, |max_val|) of the float32 range, what ORT's TensorRT
 * execution provider reads from these files ("maximum absolute value"; ORT 1.20's writer puts
 * max(highest, lowest) there, the same whenever |min_val| <= max_val). The three calibration files
 * hold per-tensor ranges only: per-channel records go to the overrides alone (a note says so).
 * Overrides need an ORT quant type (uint8, int8, uint16, int16, uint4) and the dtype's full range;
 * anything else is refused.
 */
public final class OrtCalibrationExport implements ExportFormat {
    @Override
    public String name() {
        return "ort-calibration";
    }

    @Override
    public boolean writesDirectory() {
        return true;
    }

    /** ORT's QuantType name of the record's dtype. */
    static String quantType(ExportEntry e) throws ExportException {
        String dtype = Grid.onnxDtype(e);
        return switch (dtype) {
            case "uint8" -> "QUInt8";
            case "int8" -> "QInt8";
            case "uint16" -> "QUInt16";
            case "int16" -> "QInt16";
            case "uint4" -> "QUInt4";
            default ->
                    throw new ExportException(
                            "tensor '"
                                    + e.tensor()
                                    + "': dtype "
                                    + e.record().dtype()
                                    + " has no ONNX Runtime quant type (QUInt8, QInt8, QUInt16,"
                                    + " QInt16, QUInt4)");
        };
    }

    static String dynamicRange(QParamsRecord r) {
        return PyFloat.repr(Math.max(Math.abs(r.minVal()[0]), Math.abs(r.maxVal()[0])));
    }

    @Override
    public void write(List<ExportEntry> entries, Path target, PrintStream notes)
            throws IOException, ExportException {
        List<ExportEntry> perTensor = new ArrayList<>();
        for (ExportEntry e : entries) {
            Refusals.requireQParams(e);
            Refusals.requireIntegerZeroPoints(e, name());
            Refusals.requireFinite(e, e.record().minVal(), "min_val");
            Refusals.requireFinite(e, e.record().maxVal(), "max_val");
            quantType(e);
            Grid.requireFullRange(e, name());
            if (!e.record().perChannel()) {
                perTensor.add(e);
            }
        }
        Files.createDirectory(target);
        JsonFactory json = new JsonFactory();
        try (JsonGenerator g =
                json.createGenerator(
                        target.resolve("calibration.json").toFile(), JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("CLS", "TensorsData");
            g.writeObjectFieldStart("data");
            for (ExportEntry e : perTensor) {
                g.writeObjectFieldStart(e.name());
                numpyArray(g, "lowest", e.record().minVal()[0]);
                numpyArray(g, "highest", e.record().maxVal()[0]);
                g.writeStringField("CLS", "TensorData");
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeObjectFieldStart("calibration_method");
            g.writeStringField("CLS", "CalibrationMethod");
            g.writeStringField("value", "CalibrationMethod.MinMax");
            g.writeEndObject();
            g.writeEndObject();
        }
        List<Map.Entry<String, String>> ranges = new ArrayList<>();
        for (ExportEntry e : perTensor) {
            ranges.add(new AbstractMap.SimpleEntry<>(e.name(), dynamicRange(e.record())));
        }
        ranges.sort(Map.Entry.comparingByKey());
        Files.write(target.resolve("calibration.flatbuffers"), TrtTableFlatBuffer.encode(ranges));
        try (BufferedWriter out =
                Files.newBufferedWriter(
                        target.resolve("calibration.cache"), StandardCharsets.UTF_8)) {
            for (Map.Entry<String, String> r : ranges) {
                out.write(r.getKey() + " " + r.getValue() + "\n");
            }
        }
        try (JsonGenerator g =
                json.createGenerator(
                        target.resolve("tensor_quant_overrides.json").toFile(),
                        JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            for (ExportEntry e : entries) {
                QParamsRecord r = e.record();
                g.writeArrayFieldStart(e.name());
                for (int i = 0; i < r.scale().length; i++) {
                    g.writeStartObject();
                    if (r.perChannel() && i == 0) {
                        g.writeNumberField("axis", r.chAxis());
                    }
                    g.writeNumberField("scale", (double) r.scale()[i]);
                    g.writeNumberField("zero_point", r.zeroPoint()[i]);
                    if (i == 0) {
                        g.writeStringField("quant_type", quantType(e));
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeRaw('\n');
        }
        int perChannel = entries.size() - perTensor.size();
        if (perChannel > 0) {
            notes.printf(
                    "export: ort-calibration: %d per-channel records are in"
                            + " tensor_quant_overrides.json only (ORT's calibration tables hold"
                            + " per-tensor ranges)%n",
                    perChannel);
        }
    }

    /** A float32 as ORT's encoder writes a numpy array of shape (1,). */
    private static void numpyArray(JsonGenerator g, String field, float value) throws IOException {
        g.writeObjectFieldStart(field);
        g.writeArrayFieldStart("data");
        g.writeNumber((double) value);
        g.writeEndArray();
        g.writeStringField("dtype", "float32");
        g.writeStringField("CLS", "numpy.array");
        g.writeEndObject();
    }
}
