package io.qparams.export;

import io.qparams.embeddedkafka.EmbeddedKafka;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.SortedMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The latest record of every tensor, from a records file and from a real broker's topic. */
class LatestRecordsTest {
    private static EmbeddedKafka kafka;

    @TempDir Path dir;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
    }

    private static final ObserverSpec SPEC =
            TestRecords.spec(
                    ObserverKind.MovingAverageMinMaxObserver,
                    QuantDtype.quint8,
                    QScheme.per_tensor_affine);

    @Test
    void fromAFileTheLastLineOfATensorWins() throws Exception {
        Random random = new Random(1);
        List<ExportEntry> written = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            ExportEntry e = TestRecords.record("t" + (i % 7), SPEC, random);
            written.add(e);
            text.append(new String(e.json(), StandardCharsets.UTF_8))
                    .append(i % 5 == 0 ? "\n\n" : "\n");
        }
        Path file = dir.resolve("records.jsonl");
        Files.writeString(file, text);
        SortedMap<String, ExportEntry> latest = LatestRecords.fromFile(file);
        assertEquals(7, latest.size());
        for (int t = 0; t < 7; t++) {
            ExportEntry last = null;
            for (ExportEntry e : written) {
                if (e.tensor().equals("t" + t)) {
                    last = e;
                }
            }
            assertArrayEquals(last.json(), latest.get("t" + t).json());
        }
    }

    @Test
    void aBadLineIsRefusedWithItsNumber() throws Exception {
        Path file = dir.resolve("bad.jsonl");
        ExportEntry e = TestRecords.record("t", SPEC, new Random(2));
        Files.writeString(
                file, new String(e.json(), StandardCharsets.UTF_8) + "\n{\"tensor\": \"x\"}\n");
        ExportException refused =
                assertThrows(ExportException.class, () -> LatestRecords.fromFile(file));
        assertTrue(
                refused.getMessage().startsWith(file + ":2: not a qparams record (missing field"),
                refused.getMessage());
        assertThrows(
                ExportException.class, () -> LatestRecords.fromFile(dir.resolve("missing.jsonl")));
    }

    @Test
    void fromATopicReadCommittedLatestPerTensorAndNonRecordsNoted() throws Exception {
        String topic = "qparams-latest";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        Random random = new Random(3);
        Map<String, ExportEntry> expected = new java.util.TreeMap<>();
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("key.serializer", ByteArraySerializer.class);
        p.put("value.serializer", ByteArraySerializer.class);
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
        Properties client = new Properties();
        client.put("bootstrap.servers", kafka.bootstrapServers());
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
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", kafka.bootstrapServers());
        p.put("key.serializer", ByteArraySerializer.class);
        p.put("value.serializer", ByteArraySerializer.class);
        java.util.concurrent.atomic.AtomicBoolean stop =
                new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
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
            Properties client = new Properties();
            client.put("bootstrap.servers", kafka.bootstrapServers());
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
    void aMissingTopicIsOneLine() {
        Properties client = new Properties();
        client.put("bootstrap.servers", kafka.bootstrapServers());
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
