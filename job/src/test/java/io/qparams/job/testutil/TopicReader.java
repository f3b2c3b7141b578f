package io.qparams.job.testutil;

import io.qparams.connectors.records.ContractSchemas;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Reads a topic from the start (all partitions, assigned) until {@code done} holds or the timeout
 * passes. {@link #qparams}, {@link #driftEvents} and {@link #deadLetters} check every record as it
 * arrives against the contract's JSON Schemas (docs/schema): an output record or dead-letter header
 * the schema refuses fails the test.
 */
public final class TopicReader implements AutoCloseable {
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    private final Consumer<ConsumerRecord<byte[], byte[]>> check;

    /** A reader of the output topic: every value must be a qparams record by the schema. */
    public static TopicReader qparams(EmbeddedKafkaExtension kafka, String topic) {
        return new TopicReader(kafka, topic, r -> ContractSchemas.assertRecord(r.value()));
    }

    /** A reader of the events topic: every value must be a drift event by the schema. */
    public static TopicReader driftEvents(EmbeddedKafkaExtension kafka, String topic) {
        return new TopicReader(kafka, topic, r -> ContractSchemas.assertDriftEvent(r.value()));
    }

    /**
     * A reader of the dead-letter topic: every letter's qparams.* headers must match the schema.
     */
    public static TopicReader deadLetters(EmbeddedKafkaExtension kafka, String topic) {
        return new TopicReader(
                kafka,
                topic,
                r -> {
                    Map<String, String> headers = new LinkedHashMap<>();
                    for (Header h : r.headers()) {
                        if (h.key().startsWith("qparams.")) {
                            headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
                        }
                    }
                    ContractSchemas.assertDeadLetterHeaders(headers);
                });
    }

    private TopicReader(
            EmbeddedKafkaExtension kafka,
            String topic,
            Consumer<ConsumerRecord<byte[], byte[]>> check) {
        this.check = check;
        consumer = kafka.consumer();
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : partitionsOf(topic)) {
            partitions.add(new TopicPartition(topic, info.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /**
     * The topic's partitions, once the broker's metadata knows them: a topic created a moment ago
     * may still be unknown to it, and the consumer then answers with none (a reader on no
     * partitions would wait out its whole timeout for records that are there).
     */
    private List<PartitionInfo> partitionsOf(String topic) {
        long deadline = System.nanoTime() + METADATA_TIMEOUT.toNanos();
        List<PartitionInfo> infos;
        while ((infos = consumer.partitionsFor(topic, METADATA_TIMEOUT)).isEmpty()) {
            if (System.nanoTime() > deadline) {
                consumer.close();
                throw new AssertionError(
                        "topic " + topic + " has no partitions after " + METADATA_TIMEOUT);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                consumer.close();
                throw new AssertionError("interrupted while waiting for topic " + topic, e);
            }
        }
        return infos;
    }

    public List<ConsumerRecord<byte[], byte[]>> readUntil(
            Predicate<List<ConsumerRecord<byte[], byte[]>>> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(records) && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                check.accept(r);
                records.add(r);
            }
        }
        return records;
    }

    /** Reads until at least n records arrived; fails the test after the timeout. */
    public List<ConsumerRecord<byte[], byte[]>> readAtLeast(int n, Duration timeout) {
        readUntil(r -> r.size() >= n, timeout);
        if (records.size() < n) {
            throw new AssertionError(
                    "expected at least "
                            + n
                            + " records within "
                            + timeout
                            + ", got "
                            + records.size());
        }
        return records;
    }

    public List<ConsumerRecord<byte[], byte[]>> records() {
        return records;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
