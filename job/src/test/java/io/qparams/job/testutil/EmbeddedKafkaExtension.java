package io.qparams.job.testutil;

import io.qparams.embeddedkafka.EmbeddedKafka;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;

/**
 * One in-JVM KRaft broker per test class, the same {@link EmbeddedKafka} that {@code qparams run}
 * starts, with producer and consumer helpers.
 */
public final class EmbeddedKafkaExtension implements BeforeAllCallback, AfterAllCallback {
    private final boolean secured;
    private EmbeddedKafka broker;

    public EmbeddedKafkaExtension() {
        this(false);
    }

    private EmbeddedKafkaExtension(boolean secured) {
        this.secured = secured;
    }

    /**
     * The secured broker ({@link EmbeddedKafka#startSecured}: SASL PLAIN, ACLs); the helpers here
     * connect as its super user.
     */
    public static EmbeddedKafkaExtension secured() {
        return new EmbeddedKafkaExtension(true);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        broker = secured ? EmbeddedKafka.startSecured() : EmbeddedKafka.start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** A fresh topic name per test: tests never see each other's records. */
    public static String randomTopic(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** What every helper client connects with: the servers, and on a secured broker the admin. */
    public Properties clientProperties() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers());
        if (secured) {
            props.put("security.protocol", "SASL_PLAINTEXT");
            props.put("sasl.mechanism", "PLAIN");
            props.put(
                    "sasl.jaas.config",
                    "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                            + EmbeddedKafka.ADMIN
                            + "\" password=\""
                            + EmbeddedKafka.ADMIN_PASSWORD
                            + "\";");
        }
        return props;
    }

    public KafkaProducer<byte[], byte[]> producer() {
        Properties props = clientProperties();
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return new KafkaProducer<>(props);
    }

    /**
     * Sends in order (idempotent producer: the log order is the order given); returns where each
     * landed.
     */
    public List<RecordMetadata> produce(List<ProducerRecord<byte[], byte[]>> records)
            throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        List<RecordMetadata> landed = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (ProducerRecord<byte[], byte[]> record : records) {
                sent.add(producer.send(record));
            }
            for (Future<RecordMetadata> future : sent) {
                landed.add(future.get());
            }
        }
        return landed;
    }

    /** Reads committed records only, as the contract asks of readers of exactly-once output. */
    public KafkaConsumer<byte[], byte[]> consumer() {
        Properties props = clientProperties();
        props.put(
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        props.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(props);
    }
}
