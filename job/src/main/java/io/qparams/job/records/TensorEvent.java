package io.qparams.job.records;

import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.records.StepHeaders;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.ValueCounts;

/**
 * What crosses the network to the keyed observer: a batch reduced to its min/max vectors (never the
 * tensor), or a reset from the control topic. A batch may be one rank's shard of a data-parallel
 * step ({@link #step} >= 0); a shard without values (an empty tensor) still counts as that rank's
 * arrival, with empty vectors. A Flink POJO.
 */
public class TensorEvent {
    /** {@link #step} of a batch that is not part of a data-parallel step. */
    public static final long NO_STEP = -1;

    public String tensor;
    public boolean reset;

    /** The global step of a data-parallel shard (its headers), else {@link #NO_STEP}. */
    public long step = NO_STEP;

    public int worldSize;
    public int rank;

    /** Index of the config rule that gives this tensor its observer (batches only). */
    public int rule;

    public boolean perChannel;
    public float[] min;
    public float[] max;

    /**
     * What the decoded tensor held ({@link ValueCounts}); {@code values} is -1 when nothing is
     * known (pre-reduced stats, resets).
     */
    public long values = -1;

    public long nonFinite;
    public long zeros;
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
        ValueCounts counts = batch.counts();
        if (counts != null) {
            e.values = counts.values();
            e.nonFinite = counts.nonFinite();
            e.zeros = counts.zeros();
        }
        e.setSource(source);
        return e;
    }

    /**
     * One rank's shard of a data-parallel step.
     *
     * @param batch the shard reduced, or null for an empty one
     */
    public static TensorEvent shard(
            String tensor, int rule, BatchMinMax batch, StepHeaders.Step step, KafkaInput source) {
        TensorEvent e;
        if (batch != null) {
            e = batch(tensor, rule, batch, source);
        } else {
            e = new TensorEvent();
            e.tensor = tensor;
            e.rule = rule;
            e.min = new float[0];
            e.max = new float[0];
            e.values = 0; // an empty tensor: it held nothing
            e.setSource(source);
        }
        e.step = step.step();
        e.worldSize = step.worldSize();
        e.rank = step.rank();
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

    public boolean isShard() {
        return step != NO_STEP;
    }

    /** False for an empty shard: nothing to merge, but its rank has arrived. */
    public boolean hasValues() {
        return min.length > 0;
    }

    /** What the tensor held, or null when nothing is known. */
    public ValueCounts counts() {
        return values < 0 ? null : new ValueCounts(values, nonFinite, zeros);
    }

    /**
     * The reduced batch, with its counts; its vectors are fresh copies only where BatchMinMax
     * copies them.
     */
    public BatchMinMax toBatch() {
        BatchMinMax batch =
                perChannel
                        ? BatchMinMax.perChannel(min, max)
                        : BatchMinMax.perTensor(min[0], max[0]);
        return batch.withCounts(counts());
    }

    @Override
    public String toString() {
        return "TensorEvent{"
                + tensor
                + (reset ? ", reset" : ", rule " + rule)
                + (isShard() ? ", step " + step + " rank " + rank + "/" + worldSize : "")
                + ", "
                + sourceTopic
                + "-"
                + sourcePartition
                + "@"
                + sourceOffset
                + "}";
    }
}
