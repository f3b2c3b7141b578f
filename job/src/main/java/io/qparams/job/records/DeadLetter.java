package io.qparams.job.records;

/**
 * A record the job refused (CONTRACT section 4): the original key and value, the original
 * {@code content-type} (so the record can be fixed and replayed), a one-line reason and where it came
 * from. A Flink POJO.
 */
public class DeadLetter {
    public byte[] key;
    public byte[] value;
    public String contentType;
    public String reason;
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;

    public DeadLetter() {
    }

    public DeadLetter(byte[] key, byte[] value, String contentType, String reason, String sourceTopic,
            int sourcePartition, long sourceOffset) {
        this.key = key;
        this.value = value;
        this.contentType = contentType;
        this.reason = reason;
        this.sourceTopic = sourceTopic;
        this.sourcePartition = sourcePartition;
        this.sourceOffset = sourceOffset;
    }

    public static DeadLetter of(KafkaInput record, String reason) {
        return new DeadLetter(record.key, record.value, record.contentType, reason, record.topic, record.partition,
                record.offset);
    }

    @Override
    public String toString() {
        return "DeadLetter{" + sourceTopic + "-" + sourcePartition + "@" + sourceOffset + ": " + reason + "}";
    }
}
