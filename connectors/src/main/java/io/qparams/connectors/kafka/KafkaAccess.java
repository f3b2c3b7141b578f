package io.qparams.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The job's look at Kafka before it is submitted, with the job's own settings and credentials: it
 * authenticates, creates the topics that are missing, and checks that the principal has every ACL
 * the job needs (docs/security.md), so that a wrong password or a missing ACL is one line where the
 * job is started, not a job that restarts over and over on the cluster.
 *
 * <ul>
 *   <li>Read on the input and control topics, Read on the consumer group;
 *   <li>Write on the output and dead-letter topics, and on the events topic when the config has
 *       drift rules;
 *   <li>with exactly-once delivery, Write on the transactional ids (prefix: the group id);
 *   <li>Create only for topics that do not exist yet.
 * </ul>
 *
 * What each client may do is asked of the broker (the authorized operations of each topic and of
 * the group); a transactional id is checked for Describe, which Write implies.
 */
public final class KafkaAccess {
    private KafkaAccess() {}

    /**
     * Authenticates, creates the missing topics and checks the ACLs.
     *
     * @return the topics created
     * @throws KafkaAccessException when Kafka refuses the credentials or lacks an ACL (one line)
     * @throws IllegalStateException when Kafka cannot be reached (one line)
     */
    public static List<String> prepare(KafkaSettings settings) {
        String servers = settings.bootstrapServers();
        try (Admin admin = Admin.create(adminProperties(settings))) {
            admin.describeCluster().clusterId().get(Topics.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            Set<String> createRefused = new HashSet<>();
            List<String> created =
                    Topics.createMissing(
                            admin, Topics.of(settings), settings.dlqTopic(), createRefused);
            List<String> missing =
                    new ArrayList<>(missingTopicAcls(admin, settings, createRefused));
            missing.addAll(missingGroupAcl(admin, settings.groupId()));
            if (settings.delivery() == Delivery.EXACTLY_ONCE) {
                missing.addAll(missingTransactionalIdAcl(admin, settings.groupId()));
            }
            if (!missing.isEmpty()) {
                throw new KafkaAccessException(
                        "Kafka at "
                                + servers
                                + " refuses the job: "
                                + String.join(", ", missing)
                                + " (docs/security.md lists the ACLs the job needs)");
            }
            return created;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof AuthenticationException) {
                throw new KafkaAccessException(
                        "Kafka at " + servers + " refused the credentials: " + cause.getMessage());
            }
            if (cause instanceof AuthorizationException) {
                throw new KafkaAccessException(
                        "Kafka at " + servers + " refused: " + cause.getMessage());
            }
            throw new IllegalStateException(
                    "cannot prepare the topics on " + servers + ": " + cause.getMessage(), e);
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "cannot reach Kafka at "
                            + servers
                            + " within "
                            + Topics.TIMEOUT_SECONDS
                            + " s"
                            + (settings.kafkaProperties().asMap().isEmpty()
                                    ? ""
                                    : " (a security.protocol other than the listener's looks"
                                            + " like this too)"),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preparing the topics", e);
        }
    }

    static Properties adminProperties(KafkaSettings settings) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "qparams-topics");
        settings.kafkaProperties().applyTo(props);
        return props;
    }

    /**
     * "no Read on topic 'x'" for each topic operation the job needs and may not do, "topic 'x' does
     * not exist (and no Create on it)" for a missing topic this principal may not create.
     */
    private static List<String> missingTopicAcls(
            Admin admin, KafkaSettings settings, Set<String> createRefused)
            throws ExecutionException, TimeoutException, InterruptedException {
        Map<String, AclOperation> needed = new HashMap<>();
        needed.put(settings.inputTopic(), AclOperation.READ);
        needed.put(settings.controlTopic(), AclOperation.READ);
        needed.put(settings.outputTopic(), AclOperation.WRITE);
        needed.put(settings.dlqTopic(), AclOperation.WRITE);
        if (settings.driftEventsTopic() != null) {
            needed.put(settings.driftEventsTopic(), AclOperation.WRITE);
        }
        List<String> missing = new ArrayList<>();
        for (String topic : Topics.of(settings).keySet()) {
            Optional<Set<AclOperation>> allowed =
                    authorizedOperations(admin, topic, !createRefused.contains(topic));
            if (allowed.isEmpty()) {
                missing.add("topic '" + topic + "' does not exist (and no Create on it)");
            } else if (!allowed.get().contains(needed.get(topic))) {
                missing.add("no " + name(needed.get(topic)) + " on topic '" + topic + "'");
            }
        }
        return missing;
    }

    /**
     * The operations this principal may do on the topic (none when it may not even describe it),
     * empty when the topic does not exist. Kafka answers "not authorized" for a topic this
     * principal may not describe, whether it exists or not, and "unknown" only to one who may. A
     * topic created a moment ago may not be in the broker's metadata yet: when it should exist, it
     * is asked for again until the deadline.
     */
    private static Optional<Set<AclOperation>> authorizedOperations(
            Admin admin, String topic, boolean shouldExist)
            throws ExecutionException, TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Topics.TIMEOUT_SECONDS);
        while (true) {
            try {
                TopicDescription description =
                        admin.describeTopics(
                                        List.of(topic),
                                        new DescribeTopicsOptions()
                                                .includeAuthorizedOperations(true))
                                .topicNameValues()
                                .get(topic)
                                .get(Topics.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                Set<AclOperation> allowed = description.authorizedOperations();
                return Optional.of(allowed == null ? Set.of() : allowed);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof AuthorizationException) {
                    return Optional.of(Set.of());
                }
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
                if (!shouldExist) {
                    return Optional.empty();
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Read on the group, which the sources need to commit their offsets. A group that never
     * committed has no state to describe: then only a refusal to describe it counts (Describe is
     * what Read implies; a principal with Describe alone passes here, and its job fails at its
     * first checkpoint).
     */
    private static List<String> missingGroupAcl(Admin admin, String group)
            throws ExecutionException, TimeoutException, InterruptedException {
        List<String> missing = List.of("no Read on group '" + group + "'");
        ConsumerGroupDescription description;
        try {
            description =
                    admin.describeConsumerGroups(
                                    List.of(group),
                                    new DescribeConsumerGroupsOptions()
                                            .includeAuthorizedOperations(true))
                            .describedGroups()
                            .get(group)
                            .get(Topics.TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException) {
                return missing;
            }
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return List.of();
            }
            throw e;
        }
        Set<AclOperation> allowed = description.authorizedOperations();
        if (description.groupState() == GroupState.DEAD && (allowed == null || allowed.isEmpty())) {
            return List.of();
        }
        return allowed != null && allowed.contains(AclOperation.READ) ? List.of() : missing;
    }

    /**
     * Describe on the first transactional id of each sink (what Write implies): the exactly-once
     * sinks name their transactions {@code <group>-output-...} and {@code <group>-dlq-...}.
     */
    private static List<String> missingTransactionalIdAcl(Admin admin, String group)
            throws ExecutionException, TimeoutException, InterruptedException {
        for (String role : List.of("output", "dlq")) {
            String id = group + "-" + role + "-0-1";
            try {
                admin.describeTransactions(List.of(id))
                        .description(id)
                        .get(Topics.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof AuthorizationException) {
                    return List.of("no Write on transactional ids prefixed '" + group + "'");
                }
                if (!(e.getCause() instanceof TransactionalIdNotFoundException)) {
                    throw e;
                }
            }
        }
        return List.of();
    }

    private static String name(AclOperation operation) {
        return operation == AclOperation.READ ? "Read" : "Write";
    }
}
