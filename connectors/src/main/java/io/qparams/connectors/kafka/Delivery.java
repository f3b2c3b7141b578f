package io.qparams.connectors.kafka;

/**
 * What readers of the output topic see after a failure ({@code --delivery}, README "Delivery and
 * failures"): records again (at least once, visible at once) or none twice (exactly once, Kafka
 * transactions committed at checkpoints).
 */
public enum Delivery {
    AT_LEAST_ONCE,
    EXACTLY_ONCE
}
