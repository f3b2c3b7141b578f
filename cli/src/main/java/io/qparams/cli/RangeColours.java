package io.qparams.cli;

import org.jfree.chart.renderer.PaintScale;

import java.awt.Color;
import java.awt.Paint;
import java.io.Serializable;

/**
 * The heatmap's colour scale: matplotlib's viridis (dark purple, blue, teal, green, yellow: ordered
 * in lightness, readable in grey and by colour-blind eyes), linear between five of its colours,
 * from {@code lower} to {@code upper}. Values outside are clamped; NaN (no value) is light grey.
 */
final class RangeColours implements PaintScale, Serializable {
    private static final long serialVersionUID = 1L;
    static final Color NO_VALUE = new Color(0xdddddd);
    private static final int[][] VIRIDIS = {
        {0x44, 0x01, 0x54},
        {0x3b, 0x52, 0x8b},
        {0x21, 0x91, 0x8c},
        {0x5e, 0xc9, 0x62},
        {0xfd, 0xe7, 0x25}
    };

    private final double lower;
    private final double upper;

    /** A scale from {@code lower} to {@code upper}; an empty interval is widened to one unit. */
    RangeColours(double lower, double upper) {
        this.lower = lower;
        this.upper = upper > lower ? upper : lower + 1;
    }

    @Override
    public double getLowerBound() {
        return lower;
    }

    @Override
    public double getUpperBound() {
        return upper;
    }

    @Override
    public Paint getPaint(double value) {
        if (Double.isNaN(value)) {
            return NO_VALUE;
        }
        double t =
                Math.min(1, Math.max(0, (value - lower) / (upper - lower))) * (VIRIDIS.length - 1);
        int i = Math.min(VIRIDIS.length - 2, (int) t);
        double f = t - i;
        int[] a = VIRIDIS[i];
        int[] b = VIRIDIS[i + 1];
        return new Color(mix(a[0], b[0], f), mix(a[1], b[1], f), mix(a[2], b[2], f));
    }

    private static int mix(int a, int b, double f) {
        return (int) Math.round(a + (b - a) * f);
    }
}
