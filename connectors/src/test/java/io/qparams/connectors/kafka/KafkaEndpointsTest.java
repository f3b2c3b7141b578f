package io.qparams.connectors.kafka;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KafkaEndpointsTest {
    @Test
    void transactionTimeoutStaysWithinTheBrokersMaximum() {
        assertEquals(
                Duration.ofMinutes(1), KafkaEndpoints.transactionTimeout(Duration.ofSeconds(1)));
        assertEquals(
                Duration.ofMinutes(5), KafkaEndpoints.transactionTimeout(Duration.ofSeconds(30)));
        assertEquals(
                Duration.ofMinutes(15), KafkaEndpoints.transactionTimeout(Duration.ofMinutes(10)));
    }
}
