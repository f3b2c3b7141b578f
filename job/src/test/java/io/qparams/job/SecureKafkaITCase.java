package io.qparams.job;

import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import io.qparams.connectors.kafka.KafkaAccessException;
import io.qparams.embeddedkafka.EmbeddedKafka;
import io.qparams.job.testutil.EmbeddedKafkaExtension;
import io.qparams.job.testutil.FlinkRest;
import io.qparams.job.testutil.JobUnderTest;
import io.qparams.job.testutil.JsonBatches;
import io.qparams.job.testutil.MiniClusters;
import io.qparams.job.testutil.QParamsAssertions;
import io.qparams.job.testutil.TopicReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static io.qparams.job.testutil.ObserverYaml.observers;
import static io.qparams.job.testutil.ObserverYaml.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job on a broker that authenticates (SASL PLAIN) and authorizes (ACLs, nothing without one)
 * every client, given {@code --kafka-properties} whose password is a {@code ${file:...}} reference
 * that each Kafka client resolves where it runs: the preflight in the client, the source
 * enumerators on the JobManager, the readers and the exactly-once writers on the TaskManager. With
 * exactly the ACLs docs/security.md lists (topics created beforehand, no Create) it runs without a
 * restart and its password is in none of the REST API's answers; a wrong password, a missing ACL or
 * a missing topic stop it before it is submitted, with one line that names what is wrong.
 */
class SecureKafkaITCase {
    @RegisterExtension static final EmbeddedKafkaExtension KAFKA = EmbeddedKafkaExtension.secured();

    @RegisterExtension static final MiniClusterExtension FLINK = MiniClusters.oneTaskManager(2);

    static final String CONFIG = observers(rule("*", "MinMaxObserver"));
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    static final String PRINCIPAL = "User:" + EmbeddedKafka.USER;

    /** The ACLs the job needs, by what each grants (tests leave some out). */
    enum Grant {
        READ_INPUT,
        READ_CONTROL,
        READ_GROUP,
        WRITE_OUTPUT,
        WRITE_DLQ,
        WRITE_TRANSACTIONS
    }

    @TempDir Path dir;

    /** Client settings for the ACL-less user, its password read from a file on each client. */
    private Path clientProperties(String password) throws Exception {
        Path secrets = Files.createTempFile(dir, "secrets", ".properties");
        Files.writeString(secrets, "password=" + password + "\n");
        return Files.writeString(
                Files.createTempFile(dir, "kafka", ".properties"),
                "security.protocol=SASL_PLAINTEXT\n"
                        + "sasl.mechanism=PLAIN\n"
                        + "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
                        + " required username=\""
                        + EmbeddedKafka.USER
                        + "\" password=\"${file:"
                        + secrets
                        + ":password}\";\n");
    }

    private JobUnderTest job(String password) throws Exception {
        return new JobUnderTest(
                KAFKA,
                dir,
                CONFIG,
                2,
                "--kafka-properties",
                clientProperties(password).toString(),
                "--delivery",
                "exactly-once");
    }

    private static void createTopics(JobUnderTest job) throws Exception {
        List<NewTopic> topics = new ArrayList<>();
        for (String topic : List.of(job.input, job.output, job.dlq, job.control)) {
            topics.add(new NewTopic(topic, Optional.of(2), Optional.empty()));
        }
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            admin.createTopics(topics).all().get();
        }
    }

    /** Grants the user these ACLs of the job's, and waits until the broker enforces them. */
    private static void grant(JobUnderTest job, Set<Grant> grants) throws Exception {
        String group = job.options.groupId();
        List<AclBinding> acls = new ArrayList<>();
        for (Grant grant : grants) {
            acls.add(
                    switch (grant) {
                        case READ_INPUT -> acl(ResourceType.TOPIC, job.input, AclOperation.READ);
                        case READ_CONTROL ->
                                acl(ResourceType.TOPIC, job.control, AclOperation.READ);
                        case READ_GROUP -> acl(ResourceType.GROUP, group, AclOperation.READ);
                        case WRITE_OUTPUT ->
                                acl(ResourceType.TOPIC, job.output, AclOperation.WRITE);
                        case WRITE_DLQ -> acl(ResourceType.TOPIC, job.dlq, AclOperation.WRITE);
                        case WRITE_TRANSACTIONS ->
                                new AclBinding(
                                        new ResourcePattern(
                                                ResourceType.TRANSACTIONAL_ID,
                                                group,
                                                PatternType.PREFIXED),
                                        allow(AclOperation.WRITE));
                    });
        }
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            admin.createAcls(acls).all().get();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!served(admin).containsAll(acls)) {
                assertTrue(System.nanoTime() < deadline, "the broker did not apply the ACLs");
                Thread.sleep(50);
            }
        }
    }

    private static Collection<AclBinding> served(Admin admin) throws Exception {
        return admin.describeAcls(
                        new AclBindingFilter(
                                ResourcePatternFilter.ANY,
                                new AccessControlEntryFilter(
                                        PRINCIPAL, null, AclOperation.ANY, AclPermissionType.ANY)))
                .values()
                .get();
    }

    private static AclBinding acl(ResourceType type, String name, AclOperation operation) {
        return new AclBinding(
                new ResourcePattern(type, name, PatternType.LITERAL), allow(operation));
    }

    private static AccessControlEntry allow(AclOperation operation) {
        return new AccessControlEntry(PRINCIPAL, "*", operation, AclPermissionType.ALLOW);
    }

    private static String refusal(JobUnderTest job) {
        String reason = assertThrows(KafkaAccessException.class, job::start).getMessage();
        assertFalse(reason.contains("\n"), "one line: " + reason);
        assertFalse(reason.contains(EmbeddedKafka.USER_PASSWORD), reason);
        return reason;
    }

    @Test
    void runsWithExactlyTheAclsItNeedsAndItsPasswordNowhereInTheRestApi(
            @InjectClusterRESTAddress URI restAddress) throws Exception {
        FlinkRest rest = new FlinkRest(restAddress);
        try (JobUnderTest job = job(EmbeddedKafka.USER_PASSWORD)) {
            createTopics(job);
            grant(job, Set.of(Grant.values()));
            job.start().awaitRunning(rest, TIMEOUT);
            KAFKA.produce(
                    List.of(
                            stats(job.input, "t.a", -1.0f, 2.0f),
                            stats(job.input, "t.b", 0.5f, 0.75f),
                            stats(job.input, "t.a", -3.0f, 1.0f),
                            stats(job.input, "t.a", 0.5f, 4.0f)));
            try (TopicReader out = TopicReader.qparams(KAFKA, job.output)) {
                List<ConsumerRecord<byte[], byte[]>> records = out.readAtLeast(4, TIMEOUT);
                JsonNode last = null;
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    JsonNode record = QParamsAssertions.parse(r.value());
                    if (record.get("tensor").asText().equals("t.a")
                            && record.get("batches").asInt() == 3) {
                        last = record;
                    }
                }
                assertTrue(last != null, "t.a after 3 batches");
                assertEquals(-3.0f, QParamsAssertions.toFloat(last.get("min_val")));
                assertEquals(4.0f, QParamsAssertions.toFloat(last.get("max_val")));
            }
            assertEquals(0, rest.numRestarts(job.jobId()), "every client authenticated at once");
            for (String path :
                    List.of(
                            "jobs/" + job.jobId(),
                            "jobs/" + job.jobId() + "/config",
                            "jobs/" + job.jobId() + "/plan",
                            "jobs/" + job.jobId() + "/exceptions",
                            "jobmanager/config",
                            "jobmanager/environment")) {
                String answer = rest.get(path).toString();
                assertFalse(answer.contains(EmbeddedKafka.USER_PASSWORD), "GET " + path);
            }
            assertFalse(job.options.toString().contains(EmbeddedKafka.USER_PASSWORD));
        }
    }

    @Test
    void aWrongPasswordStopsTheJobBeforeItIsSubmitted() throws Exception {
        try (JobUnderTest job = job("not-the-password")) {
            createTopics(job);
            grant(job, Set.of(Grant.values()));
            String reason = refusal(job);
            assertTrue(reason.contains("refused the credentials"), reason);
            assertFalse(reason.contains("not-the-password"), reason);
        }
    }

    @Test
    void everyMissingAclIsNamedBeforeTheJobIsSubmitted() throws Exception {
        try (JobUnderTest job = job(EmbeddedKafka.USER_PASSWORD)) {
            createTopics(job);
            grant(job, Set.of(Grant.READ_INPUT, Grant.READ_CONTROL, Grant.WRITE_DLQ));
            String reason = refusal(job);
            assertTrue(reason.contains("Write on topic '" + job.output + "'"), reason);
            String group = job.options.groupId();
            assertTrue(reason.contains("Read on group '" + group + "'"), reason);
            assertTrue(
                    reason.contains("Write on transactional ids prefixed '" + group + "'"), reason);
            assertFalse(reason.contains("'" + job.input + "'"), reason);
        }
    }

    @Test
    void withoutCreateTheTopicsMustExistBeforehand() throws Exception {
        try (JobUnderTest job = job(EmbeddedKafka.USER_PASSWORD)) {
            grant(job, Set.of(Grant.values()));
            String reason = refusal(job);
            for (String topic : List.of(job.input, job.output, job.dlq, job.control)) {
                assertTrue(
                        reason.contains(
                                "topic '" + topic + "' does not exist (and no Create on it)"),
                        reason);
            }
        }
    }

    private static ProducerRecord<byte[], byte[]> stats(
            String topic, String tensor, float min, float max) {
        return new ProducerRecord<>(
                topic, tensor.getBytes(StandardCharsets.UTF_8), JsonBatches.stats(min, max));
    }
}
