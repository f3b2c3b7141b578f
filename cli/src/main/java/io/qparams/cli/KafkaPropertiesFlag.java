package io.qparams.cli;

import io.qparams.connectors.kafka.KafkaClientProperties;
import io.qparams.job.flags.FlagConverters;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Properties;

/**
 * {@code --kafka-properties FILE} for the commands that read the output topic (export, plot, tail):
 * declared once, read and checked as {@code qparams run} reads it ({@link KafkaClientProperties}).
 */
final class KafkaPropertiesFlag {
    @Option(
            names = "--kafka-properties",
            paramLabel = "FILE",
            converter = FlagConverters.PathFlag.class,
            description =
                    "Kafka client settings for reading the topic (security.protocol, sasl.*,"
                            + " ssl.*, ...), as qparams run takes them, see docs/security.md"
                            + " (default: none).")
    private Path file;

    boolean given() {
        return file != null;
    }

    /**
     * The client settings to reach the cluster with.
     *
     * @throws UsageException for a file that cannot be read or holds what qparams refuses
     */
    Properties forClient(String bootstrapServers, String clientId) throws UsageException {
        Properties client;
        try {
            client =
                    (file == null ? KafkaClientProperties.none() : KafkaClientProperties.load(file))
                            .forClient(bootstrapServers);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        client.putIfAbsent("client.id", clientId);
        return client;
    }
}
