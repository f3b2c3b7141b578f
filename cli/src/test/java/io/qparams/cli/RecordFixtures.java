package io.qparams.cli;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.connectors.records.QParamsRecordDecoder;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Records for the tail and plot tests: calibrate's records of torch's fixtures, on a topic. */
final class RecordFixtures {
    static final Path FIXTURES = Path.of("src/test/resources/calibrate");

    /** bin/qparams of this checkout (the tests run in the cli module's folder). */
    static final Path BIN = Path.of("../bin/qparams").toAbsolutePath().normalize();

    private RecordFixtures() {}

    /** The JSON lines calibrate prints for the fixtures' manifest (4 tensors, 28 records). */
    static List<String> calibrated() {
        CliRun run =
                CliRun.of(
                        "calibrate",
                        "--config",
                        FIXTURES.resolve("observers.yaml").toString(),
                        "--manifest",
                        FIXTURES.resolve("manifest.jsonl").toString());
        assertEquals(0, run.status(), run.err());
        return run.out().lines().filter(l -> !l.isBlank()).toList();
    }

    static QParamsRecord decode(String line) {
        try {
            return QParamsRecordDecoder.read(line.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates {@code topic} with {@code partitions} partitions. */
    static void createTopic(String servers, String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", servers))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /** Sends the records, keyed by tensor as the job keys them, and waits for every ack. */
    static void produce(String servers, String topic, List<String> lines) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(
                        Map.<String, Object>of("bootstrap.servers", servers),
                        new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (String line : lines) {
                sent.add(
                        producer.send(
                                new ProducerRecord<>(
                                        topic,
                                        decode(line).tensor().getBytes(StandardCharsets.UTF_8),
                                        line.getBytes(StandardCharsets.UTF_8))));
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Waits until {@code done} holds, checking every 200 ms, for at most {@code seconds}. */
    static void await(int seconds, BooleanSupplier done, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            assertTrue(
                    System.nanoTime() < deadline, () -> "waited " + seconds + " s: " + what.get());
            Thread.sleep(200);
        }
    }
}
