package io.qparams.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates the job's topics that do not exist yet, before the job starts: a KafkaSource on a missing
 * topic fails and the job would loop in RESTARTING (INFRA-NOTES). Existing topics are left as they
 * are.
 */
public final class Topics {
    private static final Logger LOG = LoggerFactory.getLogger(Topics.class);

    /**
     * Input partitions bound the useful source parallelism; per-tensor order holds at any count.
     */
    public static final int INPUT_PARTITIONS = 4;

    public static final int OTHER_PARTITIONS = 1;
    private static final long TIMEOUT_SECONDS = 60;

    /**
     * The DLQ topic (when the job creates it) takes records this large: dead letters hold whole
     * input values.
     */
    public static final int DLQ_MAX_MESSAGE_BYTES = 16 << 20;

    private Topics() {}

    /** The topics these settings name, with the partition count each gets when created. */
    public static Map<String, Integer> of(KafkaSettings settings) {
        Map<String, Integer> topics = new LinkedHashMap<>();
        topics.put(settings.inputTopic(), INPUT_PARTITIONS);
        topics.put(settings.outputTopic(), INPUT_PARTITIONS);
        topics.put(settings.dlqTopic(), OTHER_PARTITIONS);
        topics.put(settings.controlTopic(), OTHER_PARTITIONS);
        return topics;
    }

    /**
     * Creates the missing ones (replication factor: the broker's default; the DLQ topic takes large
     * records).
     *
     * @return the topics created
     * @throws IllegalStateException when the broker cannot be reached or refuses, with a one-line
     *     reason
     */
    public static List<String> createMissing(
            String bootstrapServers, Map<String, Integer> topics, String dlqTopic) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "qparams-topics");
        List<String> created = new ArrayList<>();
        try (Admin admin = Admin.create(props)) {
            Set<String> existing =
                    admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            topics.forEach(
                    (name, partitions) -> {
                        if (!existing.contains(name)) {
                            NewTopic topic =
                                    new NewTopic(name, Optional.of(partitions), Optional.empty());
                            if (name.equals(dlqTopic)) {
                                topic.configs(
                                        Map.of(
                                                "max.message.bytes",
                                                Integer.toString(DLQ_MAX_MESSAGE_BYTES)));
                            }
                            missing.add(topic);
                        }
                    });
            for (Map.Entry<String, KafkaFuture<Void>> result :
                    admin.createTopics(missing).values().entrySet()) {
                try {
                    result.getValue().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    created.add(result.getKey());
                    LOG.info("created topic {}", result.getKey());
                } catch (ExecutionException e) {
                    if (!(e.getCause()
                            instanceof TopicExistsException)) { // created meanwhile by someone else
                        throw e;
                    }
                }
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "cannot create topics on "
                            + bootstrapServers
                            + ": "
                            + e.getCause().getMessage(),
                    e);
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "cannot reach Kafka at "
                            + bootstrapServers
                            + " within "
                            + TIMEOUT_SECONDS
                            + " s",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
        return created;
    }
}
