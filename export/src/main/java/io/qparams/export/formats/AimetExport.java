package io.qparams.export.formats;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.ExportFormat;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code aimet}: AIMET's quantization encodings, which Qualcomm's QNN and SNPE converters read
 * ({@code --quantization_overrides}), in version 0.6.1 (default), 1.0.0 or 2.0.0 (AIMET's encoding
 * specification, Docs/techniques/encoding_spec.rst in qualcomm/aimet).
 *
 * <p>AIMET's offset is the negative zero point on the unsigned grid: offset = quant_min -
 * zero_point (uint8 zero point 128: -128; int8 zero point 0: -128). bitwidth is the quant range's
 * (255 levels of a strict symmetric [-127, 127] count as 8 bits), min = scale * offset and max =
 * scale * (offset + quant_max - quant_min), computed in double from the float32 scale (exact: a
 * 24-bit mantissa times an integer below 2^32). Every float is written as the double it is, so a
 * reader re-derives torch's float32 scale and zero point exactly. Per-tensor records go to {@code
 * activation_encodings}, per-channel ones (torch's weight observers) to {@code param_encodings}:
 * 0.6.1 lists one entry per channel, 1.0.0 gives scale and offset lists, 2.0.0 (ONNX
 * QuantizeLinear's terms: output_dtype, y_scale, y_zero_point omitted when all zero, axis) has one
 * {@code encodings} list. Float zero points (per_channel_affine_float_qparams) are refused, and for
 * 2.0.0 a quant range other than the dtype's full range.
 */
public final class AimetExport implements ExportFormat {
    public static final String DEFAULT_VERSION = "0.6.1";
    public static final List<String> VERSIONS = List.of("0.6.1", "1.0.0", "2.0.0");

    private final String version;

    public AimetExport(String version) throws ExportException {
        if (!VERSIONS.contains(version)) {
            throw new ExportException(
                    "--aimet-version '"
                            + version
                            + "': expected one of "
                            + String.join(", ", VERSIONS));
        }
        this.version = version;
    }

    @Override
    public String name() {
        return "aimet";
    }

    @Override
    public void write(List<ExportEntry> entries, Path target, PrintStream notes)
            throws IOException, ExportException {
        for (ExportEntry e : entries) {
            Refusals.requireQParams(e);
            Refusals.requireIntegerZeroPoints(e, "aimet");
            Refusals.requireFinite(e, e.record().scale(), "scale");
            Grid.bits(e, "aimet");
            if (version.equals("2.0.0")) {
                Grid.requireFullRange(e, "aimet 2.0.0");
            }
        }
        try (JsonGenerator g =
                new JsonFactory().createGenerator(target.toFile(), JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("version", version);
            switch (version) {
                case "0.6.1" -> {
                    legacyBlock(g, "activation_encodings", entries, false);
                    legacyBlock(g, "param_encodings", entries, true);
                }
                case "1.0.0" -> {
                    listBlock(g, "activation_encodings", entries, false);
                    listBlock(g, "param_encodings", entries, true);
                }
                default -> {
                    g.writeArrayFieldStart("encodings");
                    for (ExportEntry e : entries) {
                        v2(g, e);
                    }
                    g.writeEndArray();
                }
            }
            g.writeEndObject();
            g.writeRaw('\n');
        }
    }

    /** AIMET's offset of channel i: quant_min - zero_point. */
    static long offset(QParamsRecord r, int i) {
        return r.quantMin() - r.zeroPoint()[i];
    }

    private static boolean symmetric(QParamsRecord r) {
        return r.qscheme().endsWith("symmetric");
    }

    private static void legacyBlock(
            JsonGenerator g, String name, List<ExportEntry> entries, boolean perChannel)
            throws IOException, ExportException {
        g.writeObjectFieldStart(name);
        for (ExportEntry e : entries) {
            QParamsRecord r = e.record();
            if (r.perChannel() != perChannel) {
                continue;
            }
            int bits = Grid.bits(e, "aimet");
            g.writeArrayFieldStart(e.name());
            for (int i = 0; i < r.scale().length; i++) {
                double scale = r.scale()[i];
                long offset = offset(r, i);
                g.writeStartObject();
                g.writeNumberField("bitwidth", bits);
                g.writeStringField("dtype", "int");
                g.writeStringField("is_symmetric", symmetric(r) ? "True" : "False");
                g.writeNumberField("max", scale * (offset + r.quantMax() - r.quantMin()));
                g.writeNumberField("min", scale * offset);
                g.writeNumberField("offset", offset);
                g.writeNumberField("scale", scale);
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    private static void listBlock(
            JsonGenerator g, String name, List<ExportEntry> entries, boolean perChannel)
            throws IOException, ExportException {
        g.writeArrayFieldStart(name);
        for (ExportEntry e : entries) {
            QParamsRecord r = e.record();
            if (r.perChannel() != perChannel) {
                continue;
            }
            g.writeStartObject();
            g.writeStringField("name", e.name());
            g.writeStringField("dtype", "INT");
            g.writeStringField("enc_type", perChannel ? "PER_CHANNEL" : "PER_TENSOR");
            g.writeNumberField("bw", Grid.bits(e, "aimet"));
            g.writeBooleanField("is_sym", symmetric(r));
            g.writeArrayFieldStart("scale");
            for (float s : r.scale()) {
                g.writeNumber((double) s);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("offset");
            for (int i = 0; i < r.scale().length; i++) {
                g.writeNumber(offset(r, i));
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void v2(JsonGenerator g, ExportEntry e) throws IOException, ExportException {
        QParamsRecord r = e.record();
        g.writeStartObject();
        g.writeStringField("name", e.name());
        g.writeStringField("output_dtype", Grid.onnxDtype(e));
        g.writeFieldName("y_scale");
        if (r.perChannel()) {
            g.writeStartArray();
            for (float s : r.scale()) {
                g.writeNumber((double) s);
            }
            g.writeEndArray();
        } else {
            g.writeNumber((double) r.scale()[0]);
        }
        boolean allZero = true;
        for (long z : r.zeroPoint()) {
            allZero &= z == 0;
        }
        if (!allZero) {
            g.writeFieldName("y_zero_point");
            if (r.perChannel()) {
                g.writeStartArray();
                for (long z : r.zeroPoint()) {
                    g.writeNumber(z);
                }
                g.writeEndArray();
            } else {
                g.writeNumber(r.zeroPoint()[0]);
            }
        }
        if (r.perChannel()) {
            g.writeNumberField("axis", r.chAxis());
        }
        g.writeEndObject();
    }
}
