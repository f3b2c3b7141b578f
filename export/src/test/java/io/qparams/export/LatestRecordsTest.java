package io.qparams.export;

import io.qparams.embeddedkafka.EmbeddedKafka;
import io.qparams.observers.ObserverSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.SortedMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The latest record of every tensor from a real broker's topic (LatestRecordsFileTest: a file). */
class LatestRecordsTest {
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    private static final ObserverSpec SPEC = LatestRecordsFileTest.SPEC;

    @Test
    void fromATopicReadCommittedLatestPerTensorAndNonRecordsNoted() throws Exception {
        String topic = "qparams-latest";
        createTopic(topic, 3);
        Random random = new Random(3);
        Map<String, ExportEntry> expected = new java.util.TreeMap<>();
        Properties p = producerProperties();
        p.put("transactional.id", "latest-test");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 60; i++) {
                ExportEntry e = TestRecords.record("tensor" + (i % 9), SPEC, random);
                producer.send(
                        new ProducerRecord<>(
                                topic, e.tensor().getBytes(StandardCharsets.UTF_8), e.json()));
                expected.put(e.tensor(), e);
            }
            producer.send(
                    new ProducerRecord<>(
                            topic,
                            "noise".getBytes(StandardCharsets.UTF_8),
                            "not json".getBytes(StandardCharsets.UTF_8)));
            // A tombstone deletes a tensor from the table.
            producer.send(
                    new ProducerRecord<>(topic, "tensor8".getBytes(StandardCharsets.UTF_8), null));
            expected.remove("tensor8");
            producer.commitTransaction();
            // An aborted transaction's records are not read (read_committed).
            producer.beginTransaction();
            for (int i = 0; i < 9; i++) {
                ExportEntry e = TestRecords.record("tensor" + i, SPEC, random);
                producer.send(
                        new ProducerRecord<>(
                                topic, e.tensor().getBytes(StandardCharsets.UTF_8), e.json()));
            }
            producer.flush();
            producer.abortTransaction();
        }
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        Properties client = client();
        SortedMap<String, ExportEntry> latest =
                LatestRecords.fromTopic(
                        client,
                        topic,
                        Duration.ofSeconds(30),
                        new PrintStream(notes, true, StandardCharsets.UTF_8));
        assertEquals(expected.keySet(), latest.keySet());
        for (String t : expected.keySet()) {
            assertArrayEquals(expected.get(t).json(), latest.get(t).json(), t);
        }
        assertTrue(
                notes.toString(StandardCharsets.UTF_8)
                        .contains(
                                "skipped 1 records of 'qparams-latest' that are not qparams"
                                        + " records"),
                notes.toString());
    }

    @Test
    void aLiveTopicIsReadUpToItsEndOffsetsAtTheStart() throws Exception {
        String topic = "qparams-live";
        createTopic(topic, 2);
        Properties p = producerProperties();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong sent = new AtomicLong();
        Random random = new Random(4);
        List<ExportEntry> records = new ArrayList<>();
        for (int k = 0; k < 50; k++) {
            records.add(TestRecords.record("t" + k, SPEC, random));
        }
        // A producer that never stops while the export reads.
        Thread writer =
                new Thread(
                        () -> {
                            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                                while (!stop.get()) {
                                    ExportEntry r = records.get((int) (sent.get() % 50));
                                    producer.send(
                                                    new ProducerRecord<>(
                                                            topic,
                                                            r.tensor()
                                                                    .getBytes(
                                                                            StandardCharsets.UTF_8),
                                                            r.json()))
                                            .get();
                                    sent.incrementAndGet();
                                }
                            } catch (Exception ex) {
                                throw new RuntimeException(ex);
                            }
                        });
        writer.start();
        try {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (sent.get() < 200 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(sent.get() >= 200, "the writer sent " + sent.get());
            Properties client = client();
            // The read ends (a hang fails the test after 90 s) while the writer still writes.
            SortedMap<String, ExportEntry> latest =
                    assertTimeoutPreemptively(
                            Duration.ofSeconds(90),
                            () ->
                                    LatestRecords.fromTopic(
                                            client, topic, Duration.ofSeconds(30), System.err));
            assertTrue(writer.isAlive(), "the writer was still writing when the read ended");
            assertEquals(50, latest.size());
        } finally {
            stop.set(true);
            writer.join(30_000);
        }
    }

    @Test
    void aRecordWrittenWhileTheReadRunsIsLeftUnread() throws Exception {
        String topic = "qparams-cutoff";
        createTopic(topic, 1);
        Properties p = producerProperties();
        Random random = new Random(6);
        Properties client = client();
        LatestRecords table = new LatestRecords();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
                TopicRecords records = TopicRecords.open(client, topic, Duration.ofSeconds(30))) {
            for (int i = 0; i < 20; i++) {
                send(producer, topic, TestRecords.record("t" + i, SPEC, random));
            }
            ExportEntry late = TestRecords.record("late", SPEC, random);
            // At the first record the read hands on, one more is written: it is past the end
            // offsets the read took at its start, so the read stops before it.
            long read =
                    records.readToEnd(
                            new RecordVisitor() {
                                @Override
                                public void record(ExportEntry e, int partition, long timestamp) {
                                    if (table.table().isEmpty()) {
                                        send(producer, topic, late);
                                    }
                                    table.record(e, partition, timestamp);
                                }

                                @Override
                                public void tombstone(String tensor, int partition) {
                                    table.tombstone(tensor, partition);
                                }
                            },
                            System.err,
                            "test");
            assertEquals(20, read);
        }
        assertEquals(20, table.table().size());
        assertFalse(table.table().containsKey("late"), "read past the end offsets of its start");
        assertTrue(
                LatestRecords.fromTopic(client, topic, Duration.ofSeconds(30), System.err)
                        .containsKey("late"),
                "the next read sees it");
    }

    private static void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(client())) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    private static Properties client() {
        Properties client = new Properties();
        client.put("bootstrap.servers", kafka.bootstrapServers());
        return client;
    }

    private static Properties producerProperties() {
        Properties p = client();
        p.put("key.serializer", ByteArraySerializer.class);
        p.put("value.serializer", ByteArraySerializer.class);
        return p;
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, ExportEntry e) {
        try {
            producer.send(
                            new ProducerRecord<>(
                                    topic, e.tensor().getBytes(StandardCharsets.UTF_8), e.json()))
                    .get();
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    @Test
    void aMissingTopicIsOneLine() {
        Properties client = client();
        ExportException refused =
                assertThrows(
                        ExportException.class,
                        () ->
                                LatestRecords.fromTopic(
                                        client,
                                        "no-such-topic",
                                        Duration.ofSeconds(5),
                                        System.err));
        assertEquals(
                "topic 'no-such-topic' does not exist on " + kafka.bootstrapServers(),
                refused.getMessage());
    }
}
