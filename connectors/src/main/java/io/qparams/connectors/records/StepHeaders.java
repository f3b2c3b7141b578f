package io.qparams.connectors.records;

import io.qparams.connectors.Reasons;
import io.qparams.observers.InvalidBatchException;

/**
 * The data-parallel headers of an input record (CONTRACT section 7): {@code qparams.step}, {@code
 * qparams.world-size} and {@code qparams.rank}, all three or none. A record with them is one rank's
 * shard of a global batch; the job merges the ranks of one (tensor, step) into one observer update.
 */
public final class StepHeaders {
    public static final String STEP = "qparams.step";
    public static final String WORLD_SIZE = "qparams.world-size";
    public static final String RANK = "qparams.rank";

    /**
     * The largest world size taken: a step's state holds one bit per rank, and a header that names
     * a larger world is more likely a bug than a cluster.
     */
    public static final int MAX_WORLD_SIZE = 1 << 16;

    /** One rank's place: its global step, the world size and its rank in [0, worldSize). */
    public record Step(long step, int worldSize, int rank) {}

    private StepHeaders() {}

    /**
     * The step the three header values name, or null when none is present.
     *
     * @param step the {@code qparams.step} header as text, or null when absent (likewise the
     *     others)
     * @throws InvalidBatchException when only some are present or one is not what it must be
     */
    public static Step parse(String step, String worldSize, String rank)
            throws InvalidBatchException {
        if (step == null && worldSize == null && rank == null) {
            return null;
        }
        if (step == null || worldSize == null || rank == null) {
            throw new InvalidBatchException(
                    "data-parallel headers "
                            + STEP
                            + ", "
                            + WORLD_SIZE
                            + " and "
                            + RANK
                            + " go together: "
                            + (step == null ? STEP : worldSize == null ? WORLD_SIZE : RANK)
                            + " is missing");
        }
        long s = decimal(STEP, step, Long.MAX_VALUE);
        int n = (int) decimal(WORLD_SIZE, worldSize, MAX_WORLD_SIZE);
        if (n < 1) {
            throw new InvalidBatchException(
                    WORLD_SIZE + " '" + worldSize + "': must be at least 1");
        }
        int r = (int) decimal(RANK, rank, Integer.MAX_VALUE);
        if (r >= n) {
            throw new InvalidBatchException(
                    RANK + " " + r + " is not below " + WORLD_SIZE + " " + n);
        }
        return new Step(s, n, r);
    }

    /** A non-negative decimal number up to max: digits only, no sign, no spaces. */
    private static long decimal(String header, String text, long max) throws InvalidBatchException {
        boolean digits = !text.isEmpty() && text.length() <= 19;
        for (int i = 0; digits && i < text.length(); i++) {
            digits = text.charAt(i) >= '0' && text.charAt(i) <= '9';
        }
        if (digits) {
            try {
                long value = Long.parseLong(text);
                if (value <= max) {
                    return value;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        String quoted =
                text.isBlank()
                        ? "is blank"
                        : "'"
                                + Reasons.excerpt(text)
                                + "'"
                                + (text.strip().length() < text.length() ? " (with spaces)" : "");
        throw new InvalidBatchException(
                header + " " + quoted + ": expected a decimal integer from 0 to " + max);
    }
}
