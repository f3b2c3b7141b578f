package io.qparams.connectors.kafka;

/**
 * A record the job refused (CONTRACT section 4): the original key and value, the original {@code
 * content-type} (so the record can be fixed and replayed), a one-line reason and where it came
 * from. A Flink POJO.
 */
public class DeadLetter {
    /**
     * A value larger than this is not kept in the dead letter (the reason says so): the DLQ topic
     * the job creates takes records up to {@link Topics#DLQ_MAX_MESSAGE_BYTES}, and a dead letter
     * the sink cannot write would fail the job and restart it over the same record again and again.
     */
    public static final int MAX_VALUE_BYTES = Topics.DLQ_MAX_MESSAGE_BYTES - (64 << 10);

    public byte[] key;
    public byte[] value;
    public String contentType;
    public String reason;
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;

    /**
     * The refused record's data-parallel headers, written back as they came (null: absent); for a
     * whole step refused at once, its step and world size and no rank.
     */
    public String step;

    public String worldSize;
    public String rank;

    public DeadLetter() {}

    public DeadLetter(
            byte[] key,
            byte[] value,
            String contentType,
            String reason,
            String sourceTopic,
            int sourcePartition,
            long sourceOffset) {
        this.key = key;
        this.value = value;
        this.contentType = contentType;
        this.reason = reason;
        this.sourceTopic = sourceTopic;
        this.sourcePartition = sourcePartition;
        this.sourceOffset = sourceOffset;
    }

    public static DeadLetter of(KafkaInput record, String reason) {
        DeadLetter letter = withoutStepHeaders(record, reason);
        letter.step = record.step;
        letter.worldSize = record.worldSize;
        letter.rank = record.rank;
        return letter;
    }

    private static DeadLetter withoutStepHeaders(KafkaInput record, String reason) {
        if (record.value != null && record.value.length > MAX_VALUE_BYTES) {
            return new DeadLetter(
                    record.key,
                    null,
                    record.contentType,
                    reason
                            + " (the value of "
                            + record.value.length
                            + " bytes is not kept: over the dead-letter limit of "
                            + MAX_VALUE_BYTES
                            + " bytes)",
                    record.topic,
                    record.partition,
                    record.offset);
        }
        return new DeadLetter(
                record.key,
                record.value,
                record.contentType,
                reason,
                record.topic,
                record.partition,
                record.offset);
    }

    @Override
    public String toString() {
        return "DeadLetter{"
                + sourceTopic
                + "-"
                + sourcePartition
                + "@"
                + sourceOffset
                + ": "
                + reason
                + "}";
    }
}
