package io.qparams.export;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.connectors.records.QParamsRecordDecoder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The output topic as a reader of qparams records sees it: every partition assigned (no consumer
 * group, nothing committed), from its beginning, {@code isolation.level=read_committed} so records
 * of an open or aborted transaction (the job's exactly-once output) are never seen. Either bounded,
 * {@link #readToEnd} (up to the end offsets the partitions had when it started, so a read of a live
 * topic ends: what export and plot do), or followed, {@link #poll} after poll (tail). Values that
 * are not qparams records are skipped and counted ({@link #noteSkipped}).
 */
public final class TopicRecords implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(500);
    private static final long PROGRESS_INTERVAL_NANOS = 5_000_000_000L;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final String servers;
    private final Duration timeout;
    private final List<TopicPartition> partitions;
    private long skipped;
    private String firstSkipped;

    private TopicRecords(
            KafkaConsumer<byte[], byte[]> consumer,
            String topic,
            String servers,
            Duration timeout,
            List<TopicPartition> partitions) {
        this.consumer = consumer;
        this.topic = topic;
        this.servers = servers;
        this.timeout = timeout;
        this.partitions = partitions;
    }

    /**
     * Connects and assigns every partition of {@code topic}, positioned at its beginning.
     *
     * @param clientProperties Kafka client settings (bootstrap.servers at least)
     * @param timeout how long to wait for the topic's metadata, and for a bounded read to move
     */
    public static TopicRecords open(Properties clientProperties, String topic, Duration timeout)
            throws ExportException {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "qparams-reader");
        props.putIfAbsent(
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                Integer.toString(Math.toIntExact(timeout.toMillis())));
        String servers = String.valueOf(props.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
        KafkaConsumer<byte[], byte[]> consumer;
        try {
            consumer = new KafkaConsumer<>(props);
        } catch (KafkaException e) {
            throw new ExportException("cannot connect to " + servers + ": " + e.getMessage());
        }
        try {
            List<PartitionInfo> infos;
            try {
                infos = consumer.partitionsFor(topic, timeout);
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                throw new ExportException(
                        "no answer from " + servers + " within " + timeout.toSeconds() + " s");
            }
            if (infos == null || infos.isEmpty()) {
                throw new ExportException("topic '" + topic + "' does not exist on " + servers);
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : infos) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            return new TopicRecords(consumer, topic, servers, timeout, partitions);
        } catch (ExportException | RuntimeException e) {
            consumer.close();
            if (e instanceof KafkaException && !(e instanceof WakeupException)) {
                throw new ExportException("reading '" + topic + "' from " + servers + ": " + e);
            }
            throw e;
        }
    }

    /** Skips what the topic holds now: a follower then sees only records that come later. */
    public void seekToEnd() {
        consumer.seekToEnd(partitions);
        for (TopicPartition tp : partitions) {
            consumer.position(tp, timeout); // resolve the end now, not at the first poll
        }
    }

    /**
     * Every record from the current positions up to the end offsets the partitions have now (the
     * last stable offsets), to {@code visitor}; records written after that are left unread.
     * Progress goes to {@code notes} every 5 s as {@code COMMAND: read N of M records of 'TOPIC'}.
     *
     * @return how many records were read
     * @throws ExportException when the read makes no progress for the timeout, or Kafka fails
     */
    public long readToEnd(RecordVisitor visitor, PrintStream notes, String command)
            throws ExportException {
        try {
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long total = 0;
            for (TopicPartition tp : partitions) {
                total += end.get(tp) - consumer.position(tp, timeout);
            }
            long read = 0;
            long lastProgress = System.nanoTime();
            long lastMoved = System.nanoTime();
            while (!reached(end)) {
                int n = 0;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        n++;
                        hand(r, visitor); // else written after the read started
                    }
                }
                read += n;
                long now = System.nanoTime();
                if (n > 0) {
                    lastMoved = now;
                } else if (now - lastMoved > timeout.toNanos()) {
                    throw new ExportException(
                            String.format(
                                    "reading '%s' from %s made no progress for %d s (%d of %d"
                                            + " records read)",
                                    topic, servers, timeout.toSeconds(), read, total));
                }
                if (now - lastProgress > PROGRESS_INTERVAL_NANOS) {
                    notes.printf(
                            "%s: read %,d of %,d records of '%s'%n", command, read, total, topic);
                    lastProgress = now;
                }
            }
            return read;
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            throw new ExportException("reading '" + topic + "' from " + servers + " failed: " + e);
        }
    }

    /**
     * One poll: the records that came within {@code wait}, to {@code visitor}.
     *
     * @return how many
     * @throws WakeupException when {@link #wakeup} was called (the follower is asked to stop)
     */
    public int poll(Duration wait, RecordVisitor visitor) throws ExportException {
        try {
            int n = 0;
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait)) {
                hand(r, visitor);
                n++;
            }
            return n;
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            throw new ExportException("reading '" + topic + "' from " + servers + " failed: " + e);
        }
    }

    /** Makes a blocked or the next {@link #poll} throw a WakeupException; any thread may call. */
    public void wakeup() {
        consumer.wakeup();
    }

    /** Says on {@code notes} how many values were not qparams records, and the first of them. */
    public void noteSkipped(PrintStream notes, String command) {
        if (skipped > 0) {
            notes.printf(
                    "%s: skipped %,d records of '%s' that are not qparams records (first: %s)%n",
                    command, skipped, topic, firstSkipped);
        }
    }

    private void hand(ConsumerRecord<byte[], byte[]> r, RecordVisitor visitor) {
        if (r.value() == null) {
            if (r.key() != null) {
                visitor.tombstone(new String(r.key(), StandardCharsets.UTF_8), r.partition());
            }
            return;
        }
        QParamsRecord record;
        try {
            record = QParamsRecordDecoder.read(r.value());
        } catch (IOException e) {
            if (skipped++ == 0) {
                firstSkipped =
                        "partition "
                                + r.partition()
                                + " offset "
                                + r.offset()
                                + ": "
                                + e.getMessage();
            }
            return;
        }
        visitor.record(
                new ExportEntry(record.tensor(), record, r.value()), r.partition(), r.timestamp());
    }

    private boolean reached(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey(), timeout) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
