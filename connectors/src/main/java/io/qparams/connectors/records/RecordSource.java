package io.qparams.connectors.records;

import java.util.Objects;

/**
 * Where the batch behind a qparams record came from (CONTRACT section 3, {@code source}): a Kafka
 * record (topic, partition, offset), or for the offline CLI a file and the batch's 0-based index in
 * the input. Made with {@link #kafka} or {@link #file}; the other form's components are null or -1.
 *
 * @param topic the topic, or null for a file source
 * @param file the file, or null for a Kafka source
 */
public record RecordSource(String topic, int partition, long offset, String file, long index) {
    public static RecordSource kafka(String topic, int partition, long offset) {
        return new RecordSource(
                Objects.requireNonNull(topic, "topic"), partition, offset, null, -1);
    }

    public static RecordSource file(String file, long index) {
        return new RecordSource(null, -1, -1, Objects.requireNonNull(file, "file"), index);
    }

    public boolean isKafka() {
        return topic != null;
    }

    @Override
    public String toString() {
        return isKafka() ? topic + "-" + partition + "@" + offset : file + "#" + index;
    }
}
