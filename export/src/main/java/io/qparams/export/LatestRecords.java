package io.qparams.export;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.connectors.records.QParamsRecordDecoder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The latest qparams record of every tensor, the table an export starts from: from a JSON-lines
 * file of records (what {@code calibrate} prints: the last line of a tensor wins), or from the
 * output topic, read committed from the beginning up to the end offsets seen at the start, so that
 * an export of a live topic ends (within a partition the last record of a tensor wins; the job keys
 * records by tensor, so a tensor lives in one partition; should it appear in several, the record
 * with the later Kafka timestamp wins). On a compacted topic (docs/export.md) the read stays short
 * however long the job has run. A tombstone (null value) for a tensor's key removes the tensor.
 */
public final class LatestRecords {
    private static final Duration POLL = Duration.ofMillis(500);
    private static final long PROGRESS_INTERVAL_NANOS = 5_000_000_000L;

    private LatestRecords() {}

    /** tensor -> latest entry (named by its tensor), from a JSON-lines records file. */
    public static SortedMap<String, ExportEntry> fromFile(Path file) throws ExportException {
        SortedMap<String, ExportEntry> latest = new TreeMap<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                byte[] json = line.getBytes(StandardCharsets.UTF_8);
                QParamsRecord record;
                try {
                    record = QParamsRecordDecoder.read(json);
                } catch (IOException e) {
                    throw new ExportException(
                            file
                                    + ":"
                                    + number
                                    + ": not a qparams record ("
                                    + e.getMessage()
                                    + ")");
                }
                latest.put(record.tensor(), new ExportEntry(record.tensor(), record, json));
            }
        } catch (NoSuchFileException e) {
            throw new ExportException("no such file: " + file);
        } catch (IOException e) {
            throw new ExportException("cannot read " + file + ": " + e.getMessage());
        }
        return latest;
    }

    /**
     * tensor -> latest entry, from a topic: every partition from its beginning up to the end offset
     * it had when the read started (read_committed: the last stable offset). Values that are not
     * qparams records are skipped and counted on {@code notes}.
     *
     * @param clientProperties Kafka client settings (bootstrap.servers at least)
     * @param timeout how long to wait for the topic's metadata and for each poll to make progress
     */
    public static SortedMap<String, ExportEntry> fromTopic(
            Properties clientProperties, String topic, Duration timeout, PrintStream notes)
            throws ExportException {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "qparams-export");
        props.putIfAbsent(
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                Integer.toString(Math.toIntExact(timeout.toMillis())));
        String servers = String.valueOf(props.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
        Map<String, ConsumerRecord<byte[], byte[]>> latest = new HashMap<>();
        long skipped = 0;
        String firstSkipped = null;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
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
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, timeout));
            long total = 0;
            for (TopicPartition tp : partitions) {
                total += end.get(tp) - consumer.position(tp, timeout);
            }
            long read = 0;
            long lastProgress = System.nanoTime();
            long lastMoved = System.nanoTime();
            while (!done(consumer, end, timeout)) {
                int n = 0;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() >= end.get(tp)) {
                        continue; // written after the read started
                    }
                    n++;
                    if (r.value() == null) {
                        // A tombstone (on a compacted topic, how a tensor is deleted): forget it.
                        if (r.key() != null) {
                            latest.remove(new String(r.key(), StandardCharsets.UTF_8));
                        }
                        continue;
                    }
                    QParamsRecord record;
                    try {
                        record = QParamsRecordDecoder.read(r.value());
                    } catch (IOException e) {
                        skipped++;
                        if (firstSkipped == null) {
                            firstSkipped =
                                    "partition "
                                            + r.partition()
                                            + " offset "
                                            + r.offset()
                                            + ": "
                                            + e.getMessage();
                        }
                        continue;
                    }
                    ConsumerRecord<byte[], byte[]> before = latest.get(record.tensor());
                    if (before == null
                            || before.partition() == r.partition()
                            || before.timestamp() <= r.timestamp()) {
                        latest.put(record.tensor(), r);
                    }
                }
                read += n;
                long now = System.nanoTime();
                if (n > 0) {
                    lastMoved = now;
                } else if (now - lastMoved > timeout.toNanos()) {
                    throw new ExportException(
                            "reading '"
                                    + topic
                                    + "' from "
                                    + servers
                                    + " made no progress for "
                                    + timeout.toSeconds()
                                    + " s ("
                                    + read
                                    + " of "
                                    + total
                                    + " records read)");
                }
                if (now - lastProgress > PROGRESS_INTERVAL_NANOS) {
                    notes.printf("export: read %,d of %,d records of '%s'%n", read, total, topic);
                    lastProgress = now;
                }
            }
        } catch (KafkaException e) {
            throw new ExportException("reading '" + topic + "' from " + servers + " failed: " + e);
        }
        if (skipped > 0) {
            notes.printf(
                    "export: skipped %,d records of '%s' that are not qparams records (first:"
                            + " %s)%n",
                    skipped, topic, firstSkipped);
        }
        SortedMap<String, ExportEntry> result = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : latest.values()) {
            try {
                QParamsRecord record = QParamsRecordDecoder.read(r.value());
                result.put(record.tensor(), new ExportEntry(record.tensor(), record, r.value()));
            } catch (IOException e) {
                throw new IllegalStateException("read once, fails twice", e);
            }
        }
        return result;
    }

    private static boolean done(
            KafkaConsumer<byte[], byte[]> consumer,
            Map<TopicPartition, Long> end,
            Duration timeout) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey(), timeout) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
