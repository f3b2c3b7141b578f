package io.qparams.export.formats;

import com.fasterxml.jackson.core.io.schubfach.DoubleToDecimal;

import java.math.BigDecimal;

/**
 * Python's {@code repr} / {@code str} of a float (a double): the shortest digits that read back to
 * the same double, in fixed notation for 1e-4 <= |x| < 1e16 (with ".0" when whole), else as {@code
 * 1.5e-05} / {@code 1e+16} (two exponent digits at least). What ONNX Runtime's
 * write_calibration_table writes ({@code str(float)}), so the files match its bytes.
 */
final class PyFloat {
    private PyFloat() {}

    static String repr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        // Shortest round-trip digits (Schubfach), then Python's layout of them.
        BigDecimal shortest = new BigDecimal(DoubleToDecimal.toString(d)).stripTrailingZeros();
        String digits = shortest.unscaledValue().abs().toString();
        // value = 0.DIGITS x 10^decpt
        int decpt = digits.length() - shortest.scale();
        String sign = d < 0 ? "-" : "";
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                return sign + "0." + "0".repeat(-decpt) + digits;
            }
            if (decpt >= digits.length()) {
                return sign + digits + "0".repeat(decpt - digits.length()) + ".0";
            }
            return sign + digits.substring(0, decpt) + "." + digits.substring(decpt);
        }
        int exponent = decpt - 1;
        String mantissa =
                digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String exp = Integer.toString(Math.abs(exponent));
        return sign
                + mantissa
                + "e"
                + (exponent < 0 ? "-" : "+")
                + (exp.length() < 2 ? "0" + exp : exp);
    }
}
