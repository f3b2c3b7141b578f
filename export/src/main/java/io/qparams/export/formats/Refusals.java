package io.qparams.export.formats;

import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;

/** The checks several formats share, each a one-line refusal that names the tensor. */
final class Refusals {
    private Refusals() {}

    /**
     * A record without qparams (torch found none: status "invalid") exports to no format but json.
     */
    static void requireQParams(ExportEntry e) throws ExportException {
        if (!e.record().isOk() || e.record().scale() == null) {
            throw new ExportException(
                    "tensor '"
                            + e.tensor()
                            + "': its latest record has no qparams (status '"
                            + e.record().status()
                            + "'"
                            + (e.record().reason() == null ? "" : ": " + e.record().reason())
                            + "); leave it out with --match");
        }
    }

    /** Integer zero points: every qscheme but per_channel_affine_float_qparams. */
    static void requireIntegerZeroPoints(ExportEntry e, String format) throws ExportException {
        if (e.record().zeroPoint() == null) {
            throw new ExportException(
                    "tensor '"
                            + e.tensor()
                            + "': "
                            + e.record().qscheme()
                            + " (float zero points) cannot be expressed in the "
                            + format
                            + " format");
        }
    }

    static void requireFinite(ExportEntry e, float[] values, String what) throws ExportException {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                throw new ExportException(
                        "tensor '" + e.tensor() + "': " + what + " " + v + " is not finite");
            }
        }
    }
}
