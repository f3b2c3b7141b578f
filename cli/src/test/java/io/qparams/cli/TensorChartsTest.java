package io.qparams.cli;

import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.Range;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;

import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PNGs plot writes, read back as pixels: known series must cross the pixels their values map to
 * on the axes' ranges, and a heatmap's cells must have the colour scale's colours.
 */
class TensorChartsTest {
    private static final Color VIRIDIS_LOW = new Color(0x44, 0x01, 0x54);
    private static final Color VIRIDIS_HIGH = new Color(0xfd, 0xe7, 0x25);

    @TempDir Path dir;

    /** The pixel of (x, y) in a data area whose axes span xRange and yRange. */
    private static int[] pixel(Rectangle2D area, Range xRange, Range yRange, double x, double y) {
        double px =
                area.getX() + (x - xRange.getLowerBound()) / xRange.getLength() * area.getWidth();
        double py =
                area.getMaxY()
                        - (y - yRange.getLowerBound()) / yRange.getLength() * area.getHeight();
        return new int[] {(int) Math.floor(px), (int) Math.floor(py)};
    }

    private static int distance(Color a, int rgb) {
        Color b = new Color(rgb);
        return Math.abs(a.getRed() - b.getRed())
                + Math.abs(a.getGreen() - b.getGreen())
                + Math.abs(a.getBlue() - b.getBlue());
    }

    /** Whether a pixel within 2 of (x, y) has (nearly) the colour: a 2-pixel line, antialiased. */
    private static boolean near(BufferedImage image, int[] at, Color colour) {
        for (int dx = -2; dx <= 2; dx++) {
            for (int dy = -2; dy <= 2; dy++) {
                if (distance(colour, image.getRGB(at[0] + dx, at[1] + dy)) < 40) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void aPerTensorHistoryCrossesTheRightPixels() throws Exception {
        // min_val falls from -1 to -10, max_val stays at 5, scale rises from 0.01 to 0.1.
        List<String> lines = new ArrayList<>();
        for (int b = 1; b <= 10; b++) {
            lines.add(PlotHistoryTest.perTensor("fc.output", b, -b, 5, 0.01f * b));
        }
        PlotHistory history = new PlotHistory(t -> true);
        PlotHistoryTest.feed(history, lines);
        JFreeChart chart = TensorCharts.chart("fc.output", history.runs().get("fc.output"));
        Path png = dir.resolve("fc.png");
        ChartRenderingInfo info = TensorCharts.writePng(chart, png);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(TensorCharts.WIDTH, image.getWidth());
        assertEquals(TensorCharts.HEIGHT, image.getHeight());

        CombinedDomainXYPlot plot = (CombinedDomainXYPlot) chart.getXYPlot();
        Range x = plot.getDomainAxis().getRange();
        assertEquals(new Range(1, 10), x, "x spans exactly the batches drawn");
        XYPlot rangePlot = plot.getSubplots().get(0);
        XYPlot scalePlot = plot.getSubplots().get(1);
        Range y = rangePlot.getRangeAxis().getRange();
        Range s = scalePlot.getRangeAxis().getRange();
        assertTrue(
                y.getLowerBound() <= -10 && y.getUpperBound() >= 5 && y.getLength() < 20, "" + y);
        assertTrue(
                s.getLowerBound() <= 0.01 && s.getUpperBound() >= 0.1 && s.getLength() < 0.2,
                "" + s);

        Rectangle2D rangeArea = info.getPlotInfo().getSubplotInfo(0).getDataArea();
        Rectangle2D scaleArea = info.getPlotInfo().getSubplotInfo(1).getDataArea();
        assertTrue(scaleArea.getMinY() > rangeArea.getMaxY(), "scale below the range");
        for (double b : new double[] {2.5, 5.5, 8.5}) { // between the points: the lines only
            int[] max = pixel(rangeArea, x, y, b, 5);
            int[] min = pixel(rangeArea, x, y, b, -b);
            int[] scale = pixel(scaleArea, x, s, b, 0.01 * b);
            assertTrue(near(image, max, TensorCharts.MAX_COLOUR), "max_val at " + b);
            assertTrue(near(image, min, TensorCharts.MIN_COLOUR), "min_val at " + b);
            assertTrue(near(image, scale, TensorCharts.SCALE_COLOUR), "scale at " + b);
            // Half way between the lines there is neither.
            int[] between = pixel(rangeArea, x, y, b, (5 - b) / 2);
            assertTrue(
                    !near(image, between, TensorCharts.MAX_COLOUR)
                            && !near(image, between, TensorCharts.MIN_COLOUR),
                    "empty at " + b);
        }
    }

    @Test
    void aPerChannelHistoryIsAHeatmapOfTheRanges() throws Exception {
        // Channel c is c + 1 wide at batches 1-3; at batch 4 channel 0 widens to 11.
        List<String> lines = new ArrayList<>();
        for (int b = 1; b <= 4; b++) {
            float wide0 = b == 4 ? 11 : 1;
            lines.add(
                    PlotHistoryTest.record(
                            "conv.output",
                            b,
                            new float[] {0, -1, -1},
                            new float[] {wide0, 1, 2},
                            new float[] {0.01f, 0.01f, 0.01f}));
        }
        PlotHistory history = new PlotHistory(t -> true);
        PlotHistoryTest.feed(history, lines);
        JFreeChart chart = TensorCharts.chart("conv.output", history.runs().get("conv.output"));
        Path png = dir.resolve("conv.png");
        ChartRenderingInfo info = TensorCharts.writePng(chart, png);
        BufferedImage image = ImageIO.read(png.toFile());

        XYPlot plot = chart.getXYPlot();
        Range x = plot.getDomainAxis().getRange();
        Range y = plot.getRangeAxis().getRange();
        assertEquals(new Range(0.5, 4.5), x, "a cell per batches value, centred on it");
        assertEquals(new Range(-0.5, 2.5), y, "a row per channel");
        Rectangle2D area = info.getPlotInfo().getDataArea();
        // Ranges 1 (lowest) and 11 (highest): the two ends of viridis.
        for (int b = 1; b <= 3; b++) {
            int rgb = at(image, area, x, y, b, 0);
            assertTrue(distance(VIRIDIS_LOW, rgb) < 6, b + ": " + Integer.toHexString(rgb));
        }
        int highest = at(image, area, x, y, 4, 0);
        assertTrue(distance(VIRIDIS_HIGH, highest) < 6, Integer.toHexString(highest));
        // Range 2 (channel 1) and 3 (channel 2) in between, lighter as they widen, every batch.
        for (int b = 1; b <= 4; b++) {
            int low = at(image, area, x, y, b, 0);
            int two = at(image, area, x, y, b, 1);
            int three = at(image, area, x, y, b, 2);
            assertEquals(two, at(image, area, x, y, 1, 1), "channel 1 is 2 wide throughout");
            assertTrue(b == 4 || lightness(low) < lightness(two), "1 < 2 at " + b);
            assertTrue(lightness(two) < lightness(three), "2 < 3 at " + b);
        }
        // The colour scale on the right: both ends of viridis, the high end above the low one (its
        // strip is drawn in 100 steps, so its ends are within a step of the scale's).
        int lowRow = -1;
        int highRow = -1;
        for (int py = 0; py < image.getHeight(); py++) {
            for (int px = (int) area.getMaxX() + 1; px < image.getWidth(); px++) {
                if (distance(VIRIDIS_LOW, image.getRGB(px, py)) < 30) {
                    lowRow = py;
                }
                if (highRow < 0 && distance(VIRIDIS_HIGH, image.getRGB(px, py)) < 30) {
                    highRow = py;
                }
            }
        }
        assertTrue(
                highRow >= 0 && lowRow > highRow,
                "legend rows: high " + highRow + ", low " + lowRow);
    }

    private static int at(
            BufferedImage image, Rectangle2D area, Range x, Range y, double b, double c) {
        int[] p = pixel(area, x, y, b, c);
        return image.getRGB(p[0], p[1]) & 0xffffff;
    }

    private static int lightness(int rgb) {
        Color c = new Color(rgb);
        return c.getRed() * 299 + c.getGreen() * 587 + c.getBlue() * 114;
    }
}
