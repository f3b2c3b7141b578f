package io.qparams.export.formats;

import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.ExportFormat;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * {@code tensorrt}: a TensorRT INT8 calibration cache. The first line is the header {@code
 * TRT-<version>-<calibrator>} (default {@value #DEFAULT_HEADER}: TensorRT 10.3's entropy
 * calibrator, {@code --tensorrt-header} to change); then one {@code name: hex} line per tensor, hex
 * the big-endian bits of the float32 scale amax / 127, amax = max(-min_val, max_val) in float32
 * (TensorRT's INT8 is symmetric: the range is all it takes). Per-channel records are skipped with a
 * note (TensorRT calibrates weights itself); affine qparams with a non-zero zero point are refused
 * (an asymmetric range does not survive the symmetric int8 TensorRT applies).
 */
public final class TensorRtExport implements ExportFormat {
    public static final String DEFAULT_HEADER = "TRT-100300-EntropyCalibration2";
    private static final Pattern HEADER = Pattern.compile("TRT-[0-9]+-[A-Za-z0-9]+");

    private final String header;

    public TensorRtExport(String header) throws ExportException {
        if (!HEADER.matcher(header).matches()) {
            throw new ExportException(
                    "--tensorrt-header '"
                            + header
                            + "': expected TRT-<version>-<calibrator>, e.g. "
                            + DEFAULT_HEADER);
        }
        this.header = header;
    }

    @Override
    public String name() {
        return "tensorrt";
    }

    /** The cache's value for a tensor: the big-endian hex of float32 amax / 127. */
    public static String hex(float minVal, float maxVal) {
        float amax = Math.max(-minVal, maxVal);
        return String.format(Locale.ROOT, "%08x", Float.floatToRawIntBits(amax / 127f));
    }

    @Override
    public void write(List<ExportEntry> entries, Path target, PrintStream notes)
            throws IOException, ExportException {
        int skipped = 0;
        try (BufferedWriter out = Files.newBufferedWriter(target, StandardCharsets.UTF_8)) {
            out.write(header);
            out.write('\n');
            for (ExportEntry e : entries) {
                if (e.record().perChannel()) {
                    skipped++;
                    continue;
                }
                Refusals.requireQParams(e);
                Refusals.requireIntegerZeroPoints(e, name());
                if (e.record().qscheme().contains("affine") && e.record().zeroPoint()[0] != 0) {
                    throw new ExportException(
                            "tensor '"
                                    + e.tensor()
                                    + "': "
                                    + e.record().qscheme()
                                    + " with zero_point "
                                    + e.record().zeroPoint()[0]
                                    + " cannot be expressed in a TensorRT cache (symmetric int8);"
                                    + " calibrate it with a symmetric qscheme, or leave it out with"
                                    + " --match");
                }
                Refusals.requireFinite(e, e.record().minVal(), "min_val");
                Refusals.requireFinite(e, e.record().maxVal(), "max_val");
                if (e.name().indexOf('\n') >= 0 || e.name().contains(": ")) {
                    throw new ExportException(
                            "tensor '"
                                    + e.tensor()
                                    + "': the name '"
                                    + e.name()
                                    + "' holds a line break or ': ', which a TensorRT cache cannot"
                                    + " hold");
                }
                out.write(e.name());
                out.write(": ");
                out.write(hex(e.record().minVal()[0], e.record().maxVal()[0]));
                out.write('\n');
            }
        }
        if (skipped > 0) {
            notes.printf(
                    "export: tensorrt: skipped %d per-channel records (TensorRT calibrates weights"
                            + " itself; a cache holds per-tensor activation scales)%n",
                    skipped);
        }
    }
}
