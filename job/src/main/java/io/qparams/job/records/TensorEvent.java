package io.qparams.job.records;

import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.observers.BatchMinMax;

/**
 * What crosses the network to the keyed observer: a batch reduced to its min/max vectors (never the
 * tensor), or a reset from the control topic. A Flink POJO.
 */
public class TensorEvent {
    public String tensor;
    public boolean reset;

    /** Index of the config rule that gives this tensor its observer (batches only). */
    public int rule;

    public boolean perChannel;
    public float[] min;
    public float[] max;
    public String sourceTopic;
    public int sourcePartition;
    public long sourceOffset;

    public TensorEvent() {}

    public static TensorEvent batch(String tensor, int rule, BatchMinMax batch, KafkaInput source) {
        TensorEvent e = new TensorEvent();
        e.tensor = tensor;
        e.rule = rule;
        e.perChannel = batch.isPerChannel();
        e.min = batch.min();
        e.max = batch.max();
        e.setSource(source);
        return e;
    }

    public static TensorEvent reset(String tensor, KafkaInput source) {
        TensorEvent e = new TensorEvent();
        e.tensor = tensor;
        e.reset = true;
        e.rule = -1;
        e.min = new float[0];
        e.max = new float[0];
        e.setSource(source);
        return e;
    }

    private void setSource(KafkaInput source) {
        sourceTopic = source.topic;
        sourcePartition = source.partition;
        sourceOffset = source.offset;
    }

    /** The reduced batch; its vectors are fresh copies only where BatchMinMax copies them. */
    public BatchMinMax toBatch() {
        return perChannel
                ? BatchMinMax.perChannel(min, max)
                : BatchMinMax.perTensor(min[0], max[0]);
    }

    @Override
    public String toString() {
        return "TensorEvent{"
                + tensor
                + (reset ? ", reset" : ", rule " + rule)
                + ", "
                + sourceTopic
                + "-"
                + sourcePartition
                + "@"
                + sourceOffset
                + "}";
    }
}
