package io.qparams.connectors.kafka;

import java.nio.charset.StandardCharsets;

/**
 * One qparams record for the output topic: the tensor (the key) and the encoded JSON value. A Flink
 * POJO.
 */
public class QParamsOutput {
    public String tensor;
    public byte[] value;

    public QParamsOutput() {}

    public QParamsOutput(String tensor, byte[] value) {
        this.tensor = tensor;
        this.value = value;
    }

    @Override
    public String toString() {
        return new String(value, StandardCharsets.UTF_8);
    }
}
