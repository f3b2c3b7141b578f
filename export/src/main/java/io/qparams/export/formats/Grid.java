package io.qparams.export.formats;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;

/**
 * A record's integer grid as toolchains describe it: the bit width its quant range spans, whether
 * it is the full range of its dtype, and the dtype's name in ONNX / numpy terms.
 */
final class Grid {
    private Grid() {}

    /** The dtype as ONNX and numpy name it (torch's quint8 is uint8, qint8 int8, ...). */
    static String onnxDtype(ExportEntry e) throws ExportException {
        String dtype = e.record().dtype();
        return switch (dtype) {
            case "quint8", "uint8" -> "uint8";
            case "qint8", "int8" -> "int8";
            case "qint32", "int32" -> "int32";
            case "quint4x2" -> "uint4";
            case "int16" -> "int16";
            case "uint16" -> "uint16";
            default ->
                    throw new ExportException(
                            "tensor '" + e.tensor() + "': unknown dtype '" + dtype + "'");
        };
    }

    /** [min, max] of the dtype's full range. */
    static long[] dtypeRange(String onnxDtype) {
        return switch (onnxDtype) {
            case "uint8" -> new long[] {0, 255};
            case "int8" -> new long[] {-128, 127};
            case "int32" -> new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
            case "uint4" -> new long[] {0, 15};
            case "int16" -> new long[] {-32768, 32767};
            case "uint16" -> new long[] {0, 65535};
            default -> throw new IllegalArgumentException(onnxDtype);
        };
    }

    /**
     * Refuses a record whose quant range is narrower than its dtype's (torch's reduce_range, or a
     * custom quant_min/quant_max): a format that quantizes to the dtype's full range would clamp
     * elsewhere than torch does.
     */
    static void requireFullRange(ExportEntry e, String format) throws ExportException {
        String dtype = onnxDtype(e);
        long[] range = dtypeRange(dtype);
        QParamsRecord r = e.record();
        if (r.quantMin() != range[0] || r.quantMax() != range[1]) {
            throw new ExportException(
                    "tensor '"
                            + e.tensor()
                            + "': quant range ["
                            + r.quantMin()
                            + ", "
                            + r.quantMax()
                            + "] is not "
                            + r.dtype()
                            + "'s full range ["
                            + range[0]
                            + ", "
                            + range[1]
                            + "], which the "
                            + format
                            + " format quantizes to; calibrate without reduce_range or with the"
                            + " dtype's range");
        }
    }

    /**
     * The bit width of the quant range: quant_max - quant_min + 1 = 2^bits, or 2^bits - 1 for a
     * strict symmetric range (quant_min = -quant_max, as AIMET's strict symmetric grids).
     */
    static int bits(ExportEntry e, String format) throws ExportException {
        QParamsRecord r = e.record();
        long levels = r.quantMax() - r.quantMin() + 1;
        for (int bits = 1; bits <= 32; bits++) {
            long full = 1L << bits;
            if (levels == full || (levels == full - 1 && r.quantMin() == -r.quantMax())) {
                return bits;
            }
        }
        throw new ExportException(
                "tensor '"
                        + e.tensor()
                        + "': quant range ["
                        + r.quantMin()
                        + ", "
                        + r.quantMax()
                        + "] is not a whole number of bits, which the "
                        + format
                        + " format needs");
    }
}
