package io.qparams.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates the job's topics that do not exist yet, before the job starts: a KafkaSource on a missing
 * topic fails and the job would loop in RESTARTING (INFRA-NOTES). Existing topics are left as they
 * are, so a principal without Create runs on topics created beforehand.
 */
public final class Topics {
    private static final Logger LOG = LoggerFactory.getLogger(Topics.class);

    /**
     * Input partitions bound the useful source parallelism; per-tensor order holds at any count.
     */
    public static final int INPUT_PARTITIONS = 4;

    public static final int OTHER_PARTITIONS = 1;
    static final long TIMEOUT_SECONDS = 60;

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
        if (settings.driftEventsTopic() != null) {
            topics.put(settings.driftEventsTopic(), OTHER_PARTITIONS);
        }
        return topics;
    }

    /**
     * Creates the missing ones (replication factor: the broker's default; the DLQ topic takes large
     * records), with the given admin client ({@link KafkaAccess#prepare} opens it).
     *
     * @param createRefused gets the topics this principal may not create: missing ones, or ones it
     *     may not even describe ({@link KafkaAccess} tells the two apart)
     * @return the topics created
     * @throws ExecutionException when the broker refuses otherwise
     * @throws TimeoutException when the broker does not answer within a minute
     */
    static List<String> createMissing(
            Admin admin, Map<String, Integer> topics, String dlqTopic, Set<String> createRefused)
            throws ExecutionException, TimeoutException, InterruptedException {
        List<String> created = new ArrayList<>();
        // Lists the topics this principal may describe: one it may not looks missing.
        Set<String> existing = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
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
                if (e.getCause() instanceof TopicAuthorizationException) {
                    createRefused.add(result.getKey());
                    continue;
                }
                if (!(e.getCause()
                        instanceof TopicExistsException)) { // created meanwhile by someone else
                    throw e;
                }
            }
        }
        return created;
    }
}
