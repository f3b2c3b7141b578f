package io.qparams.connectors.kafka;

/**
 * Where a consumer group without a checkpoint starts reading ({@code --starting-offsets}). {@code
 * COMMITTED} falls back to the earliest offset where the group has committed none, so a batch
 * produced before the job started is not lost.
 */
public enum StartingOffsets {
    COMMITTED,
    EARLIEST,
    LATEST
}
