package io.qparams.export;

/**
 * What a read of qparams records ({@link RecordsFile}, {@link TopicRecords}) hands on, one call per
 * record in read order: the latest record of every tensor ({@link LatestRecords}) and a tensor's
 * whole history are both built from these calls.
 */
public interface RecordVisitor {
    /** A record a records file or a topic timestamp has no meaning for. */
    long NO_TIMESTAMP = -1;

    /**
     * A qparams record.
     *
     * @param partition its topic partition, 0 for a records file
     * @param timestamp its Kafka timestamp (epoch ms), {@link #NO_TIMESTAMP} for a records file
     */
    void record(ExportEntry entry, int partition, long timestamp);

    /** A tombstone (a null value) for a tensor's key: how a compacted topic deletes a tensor. */
    void tombstone(String tensor, int partition);
}
