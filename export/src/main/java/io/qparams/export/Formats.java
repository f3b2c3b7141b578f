package io.qparams.export;

import io.qparams.export.formats.AimetExport;
import io.qparams.export.formats.JsonExport;
import io.qparams.export.formats.OnnxExport;
import io.qparams.export.formats.OrtCalibrationExport;
import io.qparams.export.formats.TensorRtExport;
import io.qparams.export.formats.TorchExport;

import java.nio.file.Path;
import java.util.List;

/** The formats {@code qparams export --format} knows, by name, with their options. */
public final class Formats {
    /** Every format's name, in the order docs/export.md describes them. */
    public static final List<String> NAMES =
            List.of("json", "onnx", "tensorrt", "aimet", "ort-calibration", "torch");

    private Formats() {}

    /**
     * The format called {@code name}.
     *
     * @param tensorrtHeader the tensorrt cache's first line
     * @param aimetVersion the aimet encodings' version
     * @param model the onnx format's input model, or null
     */
    public static ExportFormat of(
            String name, String tensorrtHeader, String aimetVersion, Path model)
            throws ExportException {
        return switch (name) {
            case "json" -> new JsonExport();
            case "onnx" -> new OnnxExport(model);
            case "tensorrt" -> new TensorRtExport(tensorrtHeader);
            case "aimet" -> new AimetExport(aimetVersion);
            case "ort-calibration" -> new OrtCalibrationExport();
            case "torch" -> new TorchExport();
            default ->
                    throw new ExportException(
                            "--format '" + name + "': expected one of " + String.join(", ", NAMES));
        };
    }
}
