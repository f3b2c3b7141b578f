package io.qparams.connectors.kafka;

/**
 * Kafka refuses the job what it needs: its credentials, or an ACL. A mistake in the settings (the
 * {@code --kafka-properties} file, the cluster's ACLs), not an outage: {@code qparams run} exits 2
 * with the message, one line that names what is missing and never holds a secret.
 */
public final class KafkaAccessException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public KafkaAccessException(String reason) {
        super(reason);
    }
}
