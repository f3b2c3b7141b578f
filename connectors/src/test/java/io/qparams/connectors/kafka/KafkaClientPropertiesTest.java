package io.qparams.connectors.kafka;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KafkaClientPropertiesTest {
    static final String PASSWORD = "s3cret-Pa55";

    @TempDir Path dir;

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private Path secrets() throws IOException {
        return write("secrets.properties", "password=" + PASSWORD + "\n");
    }

    private static String jaas(String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"qparams\" password=\""
                + password
                + "\";";
    }

    private Path saslSsl(String password) throws IOException {
        return write(
                "client.properties",
                "security.protocol=SASL_SSL\n"
                        + "sasl.mechanism=SCRAM-SHA-512\n"
                        + "sasl.jaas.config="
                        + jaas(password).replace("\\", "\\\\")
                        + "\n"
                        + "ssl.truststore.type=PEM\n"
                        + "ssl.truststore.location=/etc/qparams/ca.crt\n");
    }

    private static String refused(Path file) {
        return assertThrows(IllegalArgumentException.class, () -> KafkaClientProperties.load(file))
                .getMessage();
    }

    @Test
    void referencesStayUnresolvedAndEveryKafkaClientResolvesThem() throws IOException {
        String reference = "${file:" + secrets() + ":password}";
        KafkaClientProperties props = KafkaClientProperties.load(saslSsl(reference));

        assertEquals(jaas(reference), props.asMap().get("sasl.jaas.config"));
        assertEquals("env,file,dir", props.asMap().get("config.providers"));
        assertEquals(List.of(), props.literalSecrets());
        assertFalse(props.toString().contains(reference), props.toString());
        assertTrue(props.toString().contains("sasl.jaas.config=[hidden]"), props.toString());

        Properties client = props.forClient("127.0.0.1:1");
        client.put("key.serializer", ByteArraySerializer.class.getName());
        client.put("value.serializer", ByteArraySerializer.class.getName());
        client.put("key.deserializer", ByteArrayDeserializer.class.getName());
        client.put("value.deserializer", ByteArrayDeserializer.class.getName());
        List<Function<Properties, AbstractConfig>> clients =
                List.of(ConsumerConfig::new, ProducerConfig::new, AdminClientConfig::new);
        for (Function<Properties, AbstractConfig> config : clients) {
            assertEquals(
                    jaas(PASSWORD),
                    config.apply(client).getPassword("sasl.jaas.config").value(),
                    "the client config resolves the reference");
        }
    }

    @Test
    void environmentReferencesResolveWhereTheClientRuns() throws IOException {
        Path file = write("env.properties", "ssl.keystore.password=${env:PATH}\n");
        KafkaClientProperties props = KafkaClientProperties.load(file);
        assertEquals("${env:PATH}", props.asMap().get("ssl.keystore.password"));
        assertEquals(
                System.getenv("PATH"),
                new AdminClientConfig(props.forClient("127.0.0.1:1"))
                        .getPassword("ssl.keystore.password")
                        .value());
    }

    @Test
    void aSecretWrittenInTheFileIsNamedButNeverShown() throws IOException {
        KafkaClientProperties props = KafkaClientProperties.load(saslSsl(PASSWORD));
        assertEquals(List.of("sasl.jaas.config"), props.literalSecrets());
        assertFalse(props.toString().contains(PASSWORD), props.toString());
    }

    @Test
    void referencesThatDoNotResolveHereAreRefusedWithoutAValue() throws IOException {
        String unset = "${env:QPARAMS_TEST_VARIABLE_THAT_IS_NOT_SET}";
        String reason = refused(saslSsl(unset));
        assertTrue(reason.startsWith("--kafka-properties " + dir), reason);
        assertTrue(reason.contains("'sasl.jaas.config' refers to " + unset), reason);
        assertTrue(reason.contains("does not resolve on this machine"), reason);

        assertTrue(
                refused(saslSsl("${file:" + secrets() + ":no-such-key}"))
                        .contains("does not resolve"));
        String missingFile = refused(saslSsl("${file:" + dir.resolve("absent") + ":password}"));
        assertTrue(missingFile.startsWith("--kafka-properties "), missingFile);
        assertFalse(missingFile.contains("\n"), missingFile);
    }

    @Test
    void aProviderTheFileDoesNotDeclareIsRefused() throws IOException {
        Path file =
                write(
                        "own.properties",
                        "config.providers=file\n"
                                + "config.providers.file.class="
                                + "org.apache.kafka.common.config.provider.FileConfigProvider\n"
                                + "ssl.key.password=${env:PATH}\n");
        assertEquals(
                "--kafka-properties "
                        + file
                        + ": 'ssl.key.password' refers to config provider 'env', which"
                        + " config.providers does not declare",
                refused(file));
    }

    @Test
    void keysTheJobOwnsOrNoClientKnowsAreRefused() throws IOException {
        assertEquals(
                "--kafka-properties "
                        + dir.resolve("a.properties")
                        + ": 'bootstrap.servers' cannot be set here (give --bootstrap-servers)",
                refused(write("a.properties", "bootstrap.servers=elsewhere:9092\n")));
        assertTrue(
                refused(write("b.properties", "isolation.level=read_uncommitted\n"))
                        .contains("'isolation.level' cannot be set here"));
        assertEquals(
                "--kafka-properties "
                        + dir.resolve("c.properties")
                        + ": 'sasl.mechansim' is not a Kafka client setting",
                refused(write("c.properties", "sasl.mechansim=PLAIN\n")));
        assertEquals(
                "--kafka-properties " + dir.resolve("none") + ": no such file",
                refused(dir.resolve("none")));
    }

    @Test
    void noFileMeansNoSettings() {
        assertEquals(
                "127.0.0.1:9092",
                KafkaClientProperties.none().forClient("127.0.0.1:9092").get("bootstrap.servers"));
        assertEquals(1, KafkaClientProperties.none().forClient("x:1").size());
    }
}
