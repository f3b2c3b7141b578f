package io.qparams.cli;

import io.qparams.connectors.batch.NpyWriter;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;

/**
 * {@code qparams run --demo}: streams synthetic activations of a small ResNet-like model, as a
 * calibration process with forward hooks would: per step one NPY batch for each of a few dozen
 * tensors, keyed by module name. Convolution outputs (N, C, H, W) meet the per-channel rule of
 * conf/observers.yaml, weights the per-channel symmetric one, everything else the per-tensor moving
 * average. Activation ranges drift slowly, so the moving averages visibly move.
 */
final class DemoProducer implements Runnable {
    private static final int BATCH = 2;
    private static final int CHANNELS = 16;
    private static final int SPATIAL = 8;
    private static final int CLASSES = 10;

    private final Properties client;
    private final String topic;
    private final long stepMillis;
    private final long steps;
    private final List<DemoTensor> tensors = new ArrayList<>();
    private volatile boolean stopped;

    /**
     * @param client the Kafka client settings (bootstrap servers, --kafka-properties)
     */
    DemoProducer(Properties client, String topic, long stepMillis, long steps) {
        this.client = client;
        this.topic = topic;
        this.stepMillis = stepMillis;
        this.steps = steps;
        long[] conv = {BATCH, CHANNELS, SPATIAL, SPATIAL};
        tensors.add(new DemoTensor("stem.conv.output", conv, false, 2.0f));
        tensors.add(new DemoTensor("stem.relu.output", conv, true, 2.0f));
        for (int layer = 1; layer <= 3; layer++) {
            for (int block = 0; block < 2; block++) {
                String prefix = "layer" + layer + "." + block + ".";
                tensors.add(new DemoTensor(prefix + "conv1.output", conv, false, 1.0f + layer));
                tensors.add(new DemoTensor(prefix + "relu1.output", conv, true, 1.0f + layer));
                tensors.add(new DemoTensor(prefix + "conv2.output", conv, false, 0.5f + layer));
                tensors.add(new DemoTensor(prefix + "add.output", conv, false, 1.5f + layer));
            }
        }
        tensors.add(new DemoTensor("pool.output", new long[] {BATCH, CHANNELS}, true, 3.0f));
        tensors.add(new DemoTensor("fc.output", new long[] {BATCH, CLASSES}, false, 6.0f));
        tensors.add(new DemoTensor("fc.weight", new long[] {CLASSES, CHANNELS}, false, 0.3f));
    }

    int tensorCount() {
        return tensors.size();
    }

    /** Ends the stream after the current round; the producer then flushes and closes cleanly. */
    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        Properties props = new Properties();
        props.putAll(client);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        Random random = new Random(20261127L);
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            for (long step = 0; step < steps && !stopped; step++) {
                for (DemoTensor tensor : tensors) {
                    producer.send(
                            new ProducerRecord<>(
                                    topic, tensor.name, tensor.nextBatch(random, step)));
                }
                producer.flush();
                sleepUnlessStopped(stepMillis);
            }
        }
    }

    private void sleepUnlessStopped(long millis) {
        long end = System.currentTimeMillis() + millis;
        while (!stopped && System.currentTimeMillis() < end) {
            try {
                Thread.sleep(Math.min(50, millis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = true;
            }
        }
    }

    /** One tensor's synthetic activations: normal noise whose spread drifts with the step. */
    private static final class DemoTensor {
        final String name;
        final long[] shape;
        final boolean relu;
        final float spread;
        final float[] values;

        DemoTensor(String name, long[] shape, boolean relu, float spread) {
            this.name = name;
            this.shape = shape;
            this.relu = relu;
            this.spread = spread;
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            this.values = new float[(int) n];
        }

        byte[] nextBatch(Random random, long step) {
            float drift = 1.0f + 0.5f * (float) Math.sin(step / 20.0);
            int channels = (int) (shape.length > 1 ? shape[1] : 1);
            int inner = values.length / (int) shape[0] / channels;
            for (int i = 0; i < values.length; i++) {
                int channel = (i / inner) % channels;
                float v = (float) random.nextGaussian() * spread * drift * (1.0f + 0.1f * channel);
                values[i] = relu ? Math.max(v, 0.0f) : v;
            }
            return NpyWriter.float32(shape, values);
        }
    }
}
