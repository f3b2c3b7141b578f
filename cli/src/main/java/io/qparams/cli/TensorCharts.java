package io.qparams.cli;

import io.qparams.connectors.records.QParamsRecord;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A tensor's history as a chart (JFreeChart, drawn headless), x = batches. A per-tensor observer:
 * min_val and max_val in one plot, scale in a second one below, on the same x axis. A per-channel
 * observer: a heatmap of each channel's range (max_val - min_val), channels up the y axis, with its
 * colour scale ({@link RangeColours}) on the right. The x axis spans exactly the first to the last
 * batches value drawn (a heatmap cell is centred on its value).
 */
final class TensorCharts {
    static final int WIDTH = 1000;
    static final int HEIGHT = 700;
    static final Color MIN_COLOUR = new Color(0x1f77b4);
    static final Color MAX_COLOUR = new Color(0xd62728);
    static final Color SCALE_COLOUR = new Color(0x2ca02c);

    /** At most this many heatmap columns: longer histories take every k-th point. */
    static final int MAX_COLUMNS = 1000;

    private TensorCharts() {}

    /** The chart of {@code tensor}'s run: lines for a per-tensor observer, else a heatmap. */
    static JFreeChart chart(String tensor, PlotHistory.Run run) {
        JFreeChart chart = run.last().perChannel() ? heatmap(run) : lines(run);
        chart.setTitle(new TextTitle(tensor, JFreeChart.DEFAULT_TITLE_FONT));
        chart.addSubtitle(0, new TextTitle(subtitle(run)));
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        return chart;
    }

    /** Writes the chart as a PNG of WIDTH x HEIGHT; the rendering info locates its plots. */
    static ChartRenderingInfo writePng(JFreeChart chart, Path file) throws IOException {
        ChartRenderingInfo info = new ChartRenderingInfo();
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT, info);
        return info;
    }

    private static String subtitle(PlotHistory.Run run) {
        QParamsRecord r = run.last();
        String text =
                String.format(
                        "%s, %s, %s%s: batches %d to %d",
                        r.observer(),
                        r.dtype(),
                        r.qscheme(),
                        r.perChannel() ? ", ch_axis " + r.chAxis() : "",
                        run.points().firstKey(),
                        run.points().lastKey());
        int earlier = run.earlierRuns();
        return earlier == 0
                ? text
                : text
                        + " (since batches last restarted at 1; "
                        + earlier
                        + (earlier == 1 ? " earlier run" : " earlier runs")
                        + " not drawn)";
    }

    private static JFreeChart lines(PlotHistory.Run run) {
        XYSeries min = new XYSeries("min_val");
        XYSeries max = new XYSeries("max_val");
        XYSeries scale = new XYSeries("scale");
        for (Map.Entry<Long, PlotHistory.Point> e : run.points().entrySet()) {
            PlotHistory.Point p = e.getValue();
            min.add(e.getKey(), finite(p.minVal()[0]));
            max.add(e.getKey(), finite(p.maxVal()[0]));
            scale.add(e.getKey(), p.scale() == null ? null : finite(p.scale()[0]));
        }
        XYSeriesCollection range = new XYSeriesCollection();
        range.addSeries(min);
        range.addSeries(max);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(batchesAxis(run));
        plot.setGap(12);
        plot.add(linePlot(range, "min_val, max_val", MIN_COLOUR, MAX_COLOUR, run), 2);
        plot.add(linePlot(new XYSeriesCollection(scale), "scale", SCALE_COLOUR, null, run), 1);
        return new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    }

    private static XYPlot linePlot(
            XYSeriesCollection data, String label, Color first, Color second, PlotHistory.Run run) {
        NumberAxis y = new NumberAxis(label);
        y.setAutoRangeIncludesZero(false);
        // A flat series (one batch, a settled scale) gets a range 10 % of its size, not 1e-8.
        double largest = 0;
        for (int s = 0; s < data.getSeriesCount(); s++) {
            for (int i = 0; i < data.getItemCount(s); i++) {
                double v = data.getYValue(s, i);
                largest = Double.isFinite(v) ? Math.max(largest, Math.abs(v)) : largest;
            }
        }
        y.setAutoRangeMinimumSize(largest > 0 ? largest * 0.1 : 1);
        boolean dots = run.points().size() <= 60;
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, dots);
        renderer.setSeriesPaint(0, first);
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        if (second != null) {
            renderer.setSeriesPaint(1, second);
            renderer.setSeriesStroke(1, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, null, y, renderer);
        style(plot);
        return plot;
    }

    private static JFreeChart heatmap(PlotHistory.Run run) {
        int channels = run.channels();
        List<Long> batches = new ArrayList<>(run.points().keySet());
        int step = Math.max(1, (batches.size() + MAX_COLUMNS - 1) / MAX_COLUMNS);
        int columns = (batches.size() + step - 1) / step;
        double[][] xyz = new double[3][columns * channels];
        double lowest = Double.POSITIVE_INFINITY;
        double highest = Double.NEGATIVE_INFINITY;
        int i = 0;
        for (int col = 0; col < columns; col++) {
            long b = batches.get(col * step);
            PlotHistory.Point p = run.points().get(b);
            for (int c = 0; c < channels; c++, i++) {
                double range =
                        c < p.minVal().length && c < p.maxVal().length
                                ? (double) p.maxVal()[c] - p.minVal()[c]
                                : Double.NaN;
                xyz[0][i] = b;
                xyz[1][i] = c;
                xyz[2][i] = Double.isFinite(range) ? range : Double.NaN;
                if (Double.isFinite(range)) {
                    lowest = Math.min(lowest, range);
                    highest = Math.max(highest, range);
                }
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("max_val - min_val", xyz);
        RangeColours colours =
                Double.isFinite(lowest)
                        ? new RangeColours(lowest, highest)
                        : new RangeColours(0, 1);
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(colours);
        // Cells as wide as the smallest step between drawn batches: none overlap, and batches
        // missing from the history (a compacted topic) stay white.
        double width = Double.POSITIVE_INFINITY;
        for (int col = 1; col < columns; col++) {
            width = Math.min(width, batches.get(col * step) - batches.get((col - 1) * step));
        }
        width = Double.isFinite(width) ? width : 1;
        renderer.setBlockWidth(width);
        renderer.setBlockHeight(1);
        NumberAxis x = batchesAxis(run);
        x.setRange(batches.get(0) - width / 2, batches.get((columns - 1) * step) + width / 2);
        NumberAxis y = new NumberAxis("channel");
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        y.setRange(-0.5, channels - 0.5);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        style(plot);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        if (step > 1) {
            chart.addSubtitle(
                    new TextTitle(
                            String.format(
                                    "%d of %d records drawn (every %d-th)",
                                    columns, batches.size(), step)));
        }
        NumberAxis legendAxis = new NumberAxis("max_val - min_val");
        legendAxis.setRange(colours.getLowerBound(), colours.getUpperBound());
        PaintScaleLegend legend = new PaintScaleLegend(colours, legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(new RectangleInsets(40, 10, 40, 10));
        legend.setStripWidth(20);
        legend.setBackgroundPaint(Color.WHITE);
        chart.addSubtitle(legend);
        return chart;
    }

    private static NumberAxis batchesAxis(PlotHistory.Run run) {
        NumberAxis x = new NumberAxis("batches");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setAutoRangeIncludesZero(false);
        x.setLowerMargin(0);
        x.setUpperMargin(0);
        long first = run.points().firstKey();
        long last = run.points().lastKey();
        if (last > first) {
            x.setRange(first, last);
        } else {
            x.setRange(first - 0.5, first + 0.5); // one batch: its point in the middle
        }
        return x;
    }

    private static void style(XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        plot.setOutlinePaint(Color.GRAY);
    }

    /** Null (a gap in the line) for a non-finite value, which an axis cannot place. */
    private static Double finite(float f) {
        return Float.isFinite(f) ? (double) f : null;
    }
}
