package io.qparams.cli;

import io.qparams.connectors.records.JsonValues;
import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.LatestRecords;
import io.qparams.export.RecordVisitor;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;

/**
 * The table {@code qparams tail} draws on a terminal: a title line, a header, then one row per
 * tensor in name order, every line at most {@code columns - 1} characters and at most {@code rows -
 * 1} lines (the screen never scrolls). A per-tensor row shows its record; a per-channel row shows
 * the widest channel (the largest max_val - min_val) and the channel count. Columns that do not fit
 * are left out (CHANNELS first, then ZP, then AGE) before a long tensor name is cut in its middle.
 */
final class TailTable {
    /** A column: its header, its width, and the order in which narrow screens drop it (0 never). */
    private record Column(String header, int width, int dropOrder) {}

    private static final Column TENSOR = new Column("TENSOR", 0, 0);
    private static final List<Column> VALUES =
            List.of(
                    new Column("BATCHES", 8, 0),
                    new Column("MIN", 10, 0),
                    new Column("MAX", 10, 0),
                    new Column("SCALE", 10, 0),
                    new Column("ZP", 6, 2),
                    new Column("CHANNELS", 13, 1),
                    new Column("DRIFT", 6, 0),
                    new Column("AGE", 5, 3));
    private static final int MIN_TENSOR_WIDTH = 16;
    private static final String CUT = "...";

    private TailTable() {}

    /**
     * The screen's lines.
     *
     * @param title the first line (cut to the width)
     * @param table every tensor's latest record, and its Kafka timestamp for its age
     */
    static List<String> lines(
            String title, LatestRecords table, long nowMillis, int columns, int rows) {
        SortedMap<String, ExportEntry> latest = table.table();
        int width = Math.max(20, columns - 1);
        List<Column> shown = new ArrayList<>(VALUES);
        for (int drop = 1; tensorWidth(shown, width) < MIN_TENSOR_WIDTH && drop <= 3; drop++) {
            int order = drop;
            shown.removeIf(c -> c.dropOrder() == order);
        }
        int tensorWidth = Math.max(MIN_TENSOR_WIDTH, tensorWidth(shown, width));
        List<String> lines = new ArrayList<>();
        lines.add(cut(title, width));
        List<String> header = new ArrayList<>();
        for (Column c : shown) {
            header.add(c.header());
        }
        lines.add(cut(line(TENSOR.header(), tensorWidth, shown, header), width));
        int room = Math.max(1, rows - 1 - lines.size());
        int n = 0;
        for (ExportEntry e : latest.values()) {
            if (n == room - 1 && latest.size() > room) {
                lines.add(
                        "... "
                                + (latest.size() - n)
                                + " more tensors (a taller window, or --match, shows them)");
                break;
            }
            List<String> cells = cells(e, table.timestamp(e.tensor()), nowMillis, shown);
            lines.add(cut(line(fit(e.tensor(), tensorWidth), tensorWidth, shown, cells), width));
            n++;
        }
        return lines;
    }

    private static int tensorWidth(List<Column> shown, int width) {
        int used = 0;
        for (Column c : shown) {
            used += c.width() + 1;
        }
        return width - used;
    }

    private static String line(
            String tensor, int tensorWidth, List<Column> shown, List<String> cells) {
        StringBuilder b = new StringBuilder(String.format("%-" + tensorWidth + "s", tensor));
        for (int i = 0; i < shown.size(); i++) {
            b.append(' ').append(String.format("%" + shown.get(i).width() + "s", cells.get(i)));
        }
        return b.toString().stripTrailing();
    }

    private static List<String> cells(ExportEntry e, long timestamp, long now, List<Column> shown) {
        QParamsRecord r = e.record();
        int c = r.perChannel() ? widest(r) : 0;
        List<String> cells = new ArrayList<>();
        for (Column column : shown) {
            cells.add(
                    switch (column.header()) {
                        case "BATCHES" -> Long.toString(r.batches());
                        case "MIN" -> r.minVal().length > c ? number(r.minVal()[c]) : "-";
                        case "MAX" -> r.maxVal().length > c ? number(r.maxVal()[c]) : "-";
                        case "SCALE" -> r.isOk() ? number(r.scale()[c]) : r.status();
                        case "ZP" ->
                                !r.isOk()
                                        ? "-"
                                        : r.zeroPoint() != null
                                                ? Long.toString(r.zeroPoint()[c])
                                                : number(r.zeroPointFloat()[c]);
                        case "CHANNELS" ->
                                r.perChannel() ? r.minVal().length + ", widest " + c : "";
                        case "DRIFT" -> drift(e.json());
                        case "AGE" ->
                                timestamp == RecordVisitor.NO_TIMESTAMP ? "" : age(now - timestamp);
                        default -> throw new IllegalStateException(column.header());
                    });
        }
        return cells;
    }

    /** The channel with the largest max_val - min_val (the first of equals; 0 when none). */
    static int widest(QParamsRecord r) {
        int widest = 0;
        double range = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < Math.min(r.minVal().length, r.maxVal().length); c++) {
            double d = (double) r.maxVal()[c] - r.minVal()[c];
            if (d > range) {
                range = d;
                widest = c;
            }
        }
        return widest;
    }

    /**
     * The record's optional drift fields (contract section 7): {@code *} when {@code "drift":
     * true}, followed by {@code drift_ratio} to two decimals when present; empty otherwise.
     */
    static String drift(byte[] json) {
        try {
            if (JsonValues.parse(json) instanceof Map<?, ?> m
                    && Boolean.TRUE.equals(m.get("drift"))) {
                return m.get("drift_ratio") instanceof Number ratio
                        ? String.format(Locale.ROOT, "* %.2f", ratio.doubleValue())
                        : "*";
            }
        } catch (IOException e) {
            // the record was read once already; an unreadable one has no drift to show
        }
        return "";
    }

    /** A float in at most 10 characters: {@code -3.541}, {@code 0.02735}, {@code 1.235e+06}. */
    static String number(float f) {
        if (Float.isNaN(f)) {
            return "NaN";
        }
        if (Float.isInfinite(f)) {
            return f > 0 ? "inf" : "-inf";
        }
        if (f == 0) {
            return "0";
        }
        return String.format(Locale.ROOT, "%.4g", f);
    }

    /** {@code 42s}, {@code 5m}, {@code 3h}, {@code 2d}. */
    static String age(long millis) {
        long s = Math.max(0, millis) / 1000;
        return s < 60
                ? s + "s"
                : s < 3600 ? s / 60 + "m" : s < 86400 ? s / 3600 + "h" : s / 86400 + "d";
    }

    /** {@code name} padded or cut in its middle to {@code width}: {@code encoder.la...0.output}. */
    static String fit(String name, int width) {
        if (name.length() <= width) {
            return name;
        }
        int keep = width - CUT.length();
        int head = (keep + 1) / 2;
        return name.substring(0, head) + CUT + name.substring(name.length() - (keep - head));
    }

    private static String cut(String line, int width) {
        return line.length() <= width ? line : line.substring(0, width);
    }
}
