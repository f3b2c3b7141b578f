package io.qparams.connectors.records;

/**
 * What a qparams record says of a data-parallel step (CONTRACT section 7): the record's {@code
 * step}, {@code world_size} and {@code ranks} (how many ranks' shards the one update merged; fewer
 * than the world size when the step timed out).
 */
public record MergedStep(long step, int worldSize, int ranks) {}
