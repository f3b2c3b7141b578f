package io.qparams.observers;

/** The few scalar operations where torch's CPU kernels differ from Java's defaults. */
final class TorchMath {
    private TorchMath() {}

    /**
     * {@code torch.round(x).to(torch.int)} on x86: round half to even, then the truncating
     * conversion ({@code cvttss2si}), which yields INT_MIN for NaN and for anything out of int32
     * range. Java's {@code (int)} cast would give 0 or saturate instead.
     */
    static int roundToInt32(float x) {
        double r = Math.rint(x);
        if (Double.isNaN(r) || r < Integer.MIN_VALUE || r > Integer.MAX_VALUE) {
            return Integer.MIN_VALUE;
        }
        return (int) r;
    }

    /** {@code torch.clamp(x, lo, hi)} on int32. */
    static int clamp(int x, int lo, int hi) {
        return Math.min(Math.max(x, lo), hi);
    }

    /** {@code old + c * (cur - old)}: three float32 roundings in that order, no FMA. */
    static float movingAverage(float old, float cur, float c) {
        float diff = cur - old;
        float step = c * diff;
        return old + step;
    }
}
