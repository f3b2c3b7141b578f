package io.qparams.cli;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A terminal redrawn in place with ANSI escapes: the cursor goes home, each line is written over
 * the last drawing's and cleared to its end, and what is left below is cleared once at the end, so
 * nothing flickers (no full-screen clear after the first). The cursor is hidden while it draws and
 * shown again on {@link #close}, which leaves the last drawing on the screen.
 */
final class TerminalScreen implements AutoCloseable {
    private static final String ESC = "\033[";
    private static final long RESIZE_CHECK_NANOS = 1_000_000_000L;
    static final int DEFAULT_COLUMNS = 80;
    static final int DEFAULT_ROWS = 24;

    private final PrintStream out;
    private int columns = DEFAULT_COLUMNS;
    private int rows = DEFAULT_ROWS;
    private long sizedAt;
    private boolean started;

    TerminalScreen(PrintStream out) {
        this.out = out;
        resize();
    }

    int columns() {
        checkSize();
        return columns;
    }

    int rows() {
        checkSize();
        return rows;
    }

    /**
     * Draws {@code lines} (each shorter than the width, fewer than the rows) over the last ones.
     */
    void draw(List<String> lines) {
        StringBuilder b = new StringBuilder();
        if (!started) {
            b.append(ESC).append("?25l").append(ESC).append("2J"); // hide the cursor, clear once
            started = true;
        }
        b.append(ESC).append('H');
        for (String line : lines) {
            b.append(line).append(ESC).append('K').append('\n');
        }
        b.append(ESC).append('J');
        out.print(b);
        out.flush();
    }

    /** Shows the cursor again, below the last drawing. */
    @Override
    public void close() {
        if (started) {
            out.print(ESC + "?25h");
            out.flush();
        }
    }

    private void checkSize() {
        if (System.nanoTime() - sizedAt > RESIZE_CHECK_NANOS) {
            resize();
        }
    }

    private void resize() {
        sizedAt = System.nanoTime();
        int[] size = size();
        rows = size[0];
        columns = size[1];
    }

    /**
     * {rows, columns}: $LINES and $COLUMNS when set (a shell exports them only when asked), else
     * what {@code stty size} says of the controlling terminal (/dev/tty), else 24 x 80.
     */
    static int[] size() {
        int envColumns = positive(System.getenv("COLUMNS"));
        int envRows = positive(System.getenv("LINES"));
        if (envColumns > 0 && envRows > 0) {
            return new int[] {envRows, envColumns};
        }
        int[] tty = stty();
        int r = envRows > 0 ? envRows : tty != null ? tty[0] : DEFAULT_ROWS;
        int c = envColumns > 0 ? envColumns : tty != null ? tty[1] : DEFAULT_COLUMNS;
        return new int[] {r, c};
    }

    private static int[] stty() {
        File tty = new File("/dev/tty");
        if (!tty.exists()) {
            return null;
        }
        try {
            Process p =
                    new ProcessBuilder("stty", "size")
                            .redirectInput(tty)
                            .redirectError(ProcessBuilder.Redirect.DISCARD)
                            .start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(2, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroy();
                return null;
            }
            String[] parts = text.trim().split("\\s+");
            int r = parts.length == 2 ? positive(parts[0]) : 0;
            int c = parts.length == 2 ? positive(parts[1]) : 0;
            return r > 0 && c > 0 ? new int[] {r, c} : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static int positive(String text) {
        try {
            return text == null ? 0 : Math.max(0, Integer.parseInt(text.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
