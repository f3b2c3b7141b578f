package io.qparams.connectors.records;

import java.util.Objects;

/**
 * Where the batch behind a qparams record came from (CONTRACT section 3, {@code source}): a Kafka
 * record (topic, partition, offset), or for the offline CLI a file and the batch's 0-based index in
 * the input.
 */
public final class RecordSource {
    private final String topic;
    private final int partition;
    private final long offset;
    private final String file;
    private final long index;

    private RecordSource(String topic, int partition, long offset, String file, long index) {
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
        this.file = file;
        this.index = index;
    }

    public static RecordSource kafka(String topic, int partition, long offset) {
        return new RecordSource(Objects.requireNonNull(topic, "topic"), partition, offset, null, -1);
    }

    public static RecordSource file(String file, long index) {
        return new RecordSource(null, -1, -1, Objects.requireNonNull(file, "file"), index);
    }

    public boolean isKafka() {
        return topic != null;
    }

    /** The topic, or null for a file source. */
    public String topic() {
        return topic;
    }

    public int partition() {
        return partition;
    }

    public long offset() {
        return offset;
    }

    /** The file, or null for a Kafka source. */
    public String file() {
        return file;
    }

    public long index() {
        return index;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RecordSource)) {
            return false;
        }
        RecordSource other = (RecordSource) o;
        return Objects.equals(topic, other.topic) && partition == other.partition && offset == other.offset
                && Objects.equals(file, other.file) && index == other.index;
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, partition, offset, file, index);
    }

    @Override
    public String toString() {
        return isKafka() ? topic + "-" + partition + "@" + offset : file + "#" + index;
    }
}
