package io.qparams.job.records;

import io.qparams.observers.BatchMinMax;
import io.qparams.observers.ValueCounts;

import java.util.Arrays;
import java.util.Objects;

/**
 * A data-parallel step of one tensor whose ranks are still arriving (keyed state): which ranks have
 * arrived, their shards merged so far (min of the mins, max of the maxes, channel by channel: the
 * min/max of {@code torch.cat} of the shards), and when it is applied without the missing ones.
 * Stored by {@link io.qparams.job.serializers.PendingStepSerializer}.
 */
public final class PendingStep {
    public final long step;
    public final int rule;
    public final int worldSize;

    /** Processing time at which the step is applied (or refused) without its missing ranks. */
    long deadline;

    /** One bit per rank that has arrived. */
    final long[] arrived;

    int ranks;
    boolean perChannel;

    /** The merged vectors, or null while no shard with values has arrived. */
    float[] min;

    float[] max;

    /**
     * The shards' counts added up ({@link ValueCounts}: values, non-finite, zeros), or null once a
     * shard with values but without counts (pre-reduced stats) has arrived, or when restored from a
     * version 1 state that did not keep them.
     */
    ValueCounts counts = ValueCounts.NONE;

    /** Why the step cannot be applied (its shards do not fit together), or null. */
    String refusal;

    /** The last shard's record: the source of the step's qparams record and dead letter. */
    String sourceTopic;

    int sourcePartition;
    long sourceOffset;

    public PendingStep(long step, int rule, int worldSize, long deadline) {
        this(step, rule, worldSize, deadline, new long[(worldSize + 63) / 64]);
    }

    PendingStep(long step, int rule, int worldSize, long deadline, long[] arrived) {
        this.step = step;
        this.rule = rule;
        this.worldSize = worldSize;
        this.deadline = deadline;
        this.arrived = arrived;
    }

    public long deadline() {
        return deadline;
    }

    /**
     * A fresh deadline: the timeout starts over (a restored job gives missing ranks time again).
     */
    public void postpone(long newDeadline) {
        deadline = newDeadline;
    }

    public boolean hasArrived(int rank) {
        return (arrived[rank >>> 6] & (1L << rank)) != 0;
    }

    /**
     * Merges one rank's shard (not yet arrived: see {@link #hasArrived}). A shard that does not fit
     * the others (another channel count, per-tensor among per-channel) marks the step refused.
     */
    public void add(TensorEvent shard) {
        arrived[shard.rank >>> 6] |= 1L << shard.rank;
        ranks++;
        sourceTopic = shard.sourceTopic;
        sourcePartition = shard.sourcePartition;
        sourceOffset = shard.sourceOffset;
        if (refusal != null) {
            return;
        }
        ValueCounts shardCounts = shard.counts();
        counts = counts == null || shardCounts == null ? null : counts.plus(shardCounts);
        if (!shard.hasValues()) {
            return;
        }
        if (min == null) {
            perChannel = shard.perChannel;
            min = shard.min.clone();
            max = shard.max.clone();
            return;
        }
        if (shard.perChannel != perChannel || shard.min.length != min.length) {
            refusal =
                    "rank "
                            + shard.rank
                            + "'s shard has "
                            + describe(shard.perChannel, shard.min.length)
                            + ", the step's earlier shards "
                            + describe(perChannel, min.length);
            return;
        }
        for (int i = 0; i < min.length; i++) {
            // Math.min/max propagate NaN, as torch.aminmax over the concatenated shards does.
            min[i] = Math.min(min[i], shard.min[i]);
            max[i] = Math.max(max[i], shard.max[i]);
        }
    }

    private static String describe(boolean perChannel, int channels) {
        return perChannel ? channels + " channels" : "one per-tensor min/max";
    }

    /** Every rank of the world has arrived. */
    public boolean isComplete() {
        return ranks == worldSize;
    }

    public int ranks() {
        return ranks;
    }

    public String refusal() {
        return refusal;
    }

    /**
     * The merged shards as one batch, with their counts added up when every shard had them; null
     * when every shard was empty (nothing to apply).
     */
    public BatchMinMax batch() {
        if (min == null) {
            return null;
        }
        BatchMinMax batch =
                perChannel
                        ? BatchMinMax.perChannel(min.clone(), max.clone())
                        : BatchMinMax.perTensor(min[0], max[0]);
        return batch.withCounts(counts);
    }

    /** The ranks that have not arrived, as "2, 3" (the first ten, then "..."). */
    public String missingRanks() {
        StringBuilder missing = new StringBuilder();
        int listed = 0;
        for (int r = 0; r < worldSize; r++) {
            if (!hasArrived(r)) {
                if (listed == 10) {
                    return missing.append(", ...").toString();
                }
                missing.append(listed++ == 0 ? "" : ", ").append(r);
            }
        }
        return missing.toString();
    }

    public String sourceTopic() {
        return sourceTopic;
    }

    public int sourcePartition() {
        return sourcePartition;
    }

    public long sourceOffset() {
        return sourceOffset;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PendingStep)) {
            return false;
        }
        PendingStep p = (PendingStep) o;
        return step == p.step
                && rule == p.rule
                && worldSize == p.worldSize
                && deadline == p.deadline
                && ranks == p.ranks
                && perChannel == p.perChannel
                && sourcePartition == p.sourcePartition
                && sourceOffset == p.sourceOffset
                && Arrays.equals(arrived, p.arrived)
                && Arrays.equals(min, p.min)
                && Arrays.equals(max, p.max)
                && Objects.equals(counts, p.counts)
                && Objects.equals(refusal, p.refusal)
                && Objects.equals(sourceTopic, p.sourceTopic);
    }

    @Override
    public int hashCode() {
        return Objects.hash(step, ranks, Arrays.hashCode(arrived));
    }

    @Override
    public String toString() {
        return "PendingStep{step "
                + step
                + ", "
                + ranks
                + "/"
                + worldSize
                + " ranks"
                + (refusal == null ? "" : ", refused: " + refusal)
                + "}";
    }
}
