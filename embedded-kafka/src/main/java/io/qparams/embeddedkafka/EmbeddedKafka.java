package io.qparams.embeddedkafka;

import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.JaasUtils;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.io.PrintStream;

/**
 * A real single-node KRaft broker (combined broker + controller) inside this JVM: the broker of
 * {@code qparams run} without {@code --bootstrap-servers}, and of the ITCases. Its data lives in a
 * temporary folder, deleted on close; it listens on a free port of 127.0.0.1.
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** The secured broker's super user and its password (Kafka's test kit fixes both). */
    public static final String ADMIN = JaasUtils.KAFKA_PLAIN_ADMIN;

    public static final String ADMIN_PASSWORD = JaasUtils.KAFKA_PLAIN_ADMIN_PASSWORD;

    /** The secured broker's other user, who may do nothing until given ACLs. */
    public static final String USER = JaasUtils.KAFKA_PLAIN_USER1;

    public static final String USER_PASSWORD = JaasUtils.KAFKA_PLAIN_USER1_PASSWORD;

    private final KafkaClusterTestKit cluster;

    private EmbeddedKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /**
     * Formats, starts and waits for the broker. The internal topics get one partition and one
     * replica (one broker; small topics start fast); topics created implicitly get four partitions,
     * as the job's input topic.
     */
    public static EmbeddedKafka start() throws Exception {
        return start(new TestKitNodes.Builder());
    }

    /**
     * The same broker with SASL (PLAIN) on its listeners and ACLs (KRaft's StandardAuthorizer, no
     * access without an ACL), for the ITCases of a secured cluster: super user {@link #ADMIN} and
     * one user without any ACL, {@link #USER}. Kafka's test kit sets the JVM's JAAS config (the
     * {@code java.security.auth.login.config} property) to its file of the two users.
     */
    public static EmbeddedKafka startSecured() throws Exception {
        return start(
                new TestKitNodes.Builder()
                        .setBrokerSecurityProtocol(SecurityProtocol.SASL_PLAINTEXT)
                        .setControllerSecurityProtocol(SecurityProtocol.SASL_PLAINTEXT));
    }

    private static EmbeddedKafka start(TestKitNodes.Builder nodes) throws Exception {
        KafkaClusterTestKit cluster =
                new KafkaClusterTestKit.Builder(
                                nodes.setCombined(true)
                                        .setNumBrokerNodes(1)
                                        .setNumControllerNodes(1)
                                        .build())
                        .setConfigProp("offsets.topic.replication.factor", "1")
                        .setConfigProp("offsets.topic.num.partitions", "1")
                        .setConfigProp("transaction.state.log.replication.factor", "1")
                        .setConfigProp("transaction.state.log.min.isr", "1")
                        .setConfigProp("transaction.state.log.num.partitions", "1")
                        .setConfigProp("share.coordinator.state.topic.replication.factor", "1")
                        .setConfigProp("share.coordinator.state.topic.min.isr", "1")
                        .setConfigProp("group.initial.rebalance.delay.ms", "0")
                        .setConfigProp("num.partitions", "4")
                        .setDeleteOnClose(true)
                        .build();
        // KafkaClusterTestKit prints its storage formatting to stdout, which carries only records
        // in qparams run.
        PrintStream stdout = System.out;
        System.setOut(System.err);
        try {
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new EmbeddedKafka(cluster);
        } catch (Exception e) {
            try {
                cluster.close();
            } catch (Exception closing) {
                e.addSuppressed(closing);
            }
            throw e;
        } finally {
            System.setOut(stdout);
        }
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
