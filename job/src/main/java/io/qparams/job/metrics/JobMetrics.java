package io.qparams.job.metrics;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;

import io.qparams.observers.InvalidBatchException;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The job's own metrics of one operator subtask, in a {@code qparams} group of the operator's
 * metric group (docs/operations.md, "Metrics", has their Prometheus names). Every counter is
 * registered when the function opens, so a series exists at 0 before anything happens (Prometheus'
 * {@code increase()} sees its first step), and each call below is one {@link Counter#inc}: no
 * lookup by name, no string built, on the hot path.
 *
 * <p>Each operator registers what it can move: the observe operator {@code batches_applied}, {@code
 * resets} and {@code drift_events}; decode-and-reduce {@code nonfinite_values}; each its own
 * classes of {@code dead_letters}. A call for a metric its operator did not register counts
 * nowhere.
 *
 * <p>Counters live as long as a task attempt: a restart (failover, restore from a checkpoint or a
 * savepoint) starts new series at 0 under a new {@code task_attempt_num}, and the batches re-read
 * since the checkpoint are counted again. They count work done, not exactly-once results.
 */
public final class JobMetrics {
    /** The group every metric of the job is in. */
    public static final String GROUP = "qparams";

    /** The {@code reason} label of {@code dead_letters}: where and why a record was refused. */
    public enum Refusal {
        /** The key is no tensor name (missing, not UTF-8, too long, control characters). */
        KEY,
        /** Malformed data-parallel step headers, or a shard or step the observer cannot take. */
        STEP,
        /** No observer rule matches the tensor. */
        NO_RULE,
        /** The value is over {@code --max-batch-bytes}. */
        SIZE,
        /** The value cannot be decoded, or does not fit the tensor's observer (shape, stats). */
        DECODE,
        /** NaN or infinite values refused by the {@code nonfinite} policy. */
        NONFINITE,
        /** The observer refused a decoded batch (its channel count changed, say). */
        OBSERVER,
        /** A malformed or unknown control message. */
        CONTROL;

        /** The label's value: the constant's name in lower case. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * A refusal by the batch decoder: over the size limit, non-finite values, or anything else
         * about the value.
         */
        public static Refusal ofDecode(InvalidBatchException e, byte[] value, int maxBatchBytes) {
            if (value != null && value.length > maxBatchBytes) {
                return SIZE;
            }
            return e.isNonFinite() ? NONFINITE : DECODE;
        }
    }

    static final String BATCHES_APPLIED = "batches_applied";
    static final String RESETS = "resets";
    static final String DRIFT_EVENTS = "drift_events";
    static final String NONFINITE_VALUES = "nonfinite_values";

    private final Counter[] deadLetters = new Counter[Refusal.values().length];
    private final Counter batchesApplied;
    private final Counter resets;
    private final Counter driftEvents;
    private final Counter nonfiniteValues;

    private JobMetrics(MetricGroup operator, Set<Refusal> refusals, Set<String> counters) {
        MetricGroup qparams = operator.addGroup(GROUP);
        // The key-value group makes "reason" a label (a variable to Flink), not part of the name.
        MetricGroup byReason = qparams.addGroup("dead_letters");
        for (Refusal refusal : Refusal.values()) {
            deadLetters[refusal.ordinal()] =
                    refusals.contains(refusal)
                            ? byReason.addGroup("reason", refusal.label()).counter("count")
                            : new SimpleCounter();
        }
        batchesApplied = counter(qparams, counters, BATCHES_APPLIED);
        resets = counter(qparams, counters, RESETS);
        driftEvents = counter(qparams, counters, DRIFT_EVENTS);
        nonfiniteValues = counter(qparams, counters, NONFINITE_VALUES);
    }

    /** The named counter, registered when the operator moves it, else one that no one reads. */
    private static Counter counter(MetricGroup qparams, Set<String> registered, String name) {
        return registered.contains(name) ? qparams.counter(name) : new SimpleCounter();
    }

    /** decode-and-reduce: refuses keys, step headers, unmatched tensors and values. */
    public static JobMetrics decodeAndReduce(MetricGroup operator) {
        return new JobMetrics(
                operator,
                EnumSet.of(
                        Refusal.KEY,
                        Refusal.STEP,
                        Refusal.NO_RULE,
                        Refusal.SIZE,
                        Refusal.DECODE,
                        Refusal.NONFINITE),
                Set.of(NONFINITE_VALUES));
    }

    /** parse-control: refuses keys and control messages. */
    public static JobMetrics parseControl(MetricGroup operator) {
        return new JobMetrics(operator, EnumSet.of(Refusal.KEY, Refusal.CONTROL), Set.of());
    }

    /** observe: applies batches and resets; refuses batches and data-parallel shards and steps. */
    public static JobMetrics observe(MetricGroup operator) {
        return new JobMetrics(
                operator,
                EnumSet.of(Refusal.STEP, Refusal.OBSERVER),
                Set.of(BATCHES_APPLIED, RESETS, DRIFT_EVENTS));
    }

    /** {@code batches_applied}: one observer update (a data-parallel step's merged shards: one). */
    public void batchApplied() {
        batchesApplied.inc();
    }

    /** {@code resets}: a control reset applied to a tensor's state. */
    public void reset() {
        resets.inc();
    }

    /** {@code dead_letters{reason}}: one record (or a whole step) sent to the dead letters. */
    public void deadLetter(Refusal why) {
        deadLetters[why.ordinal()].inc();
    }

    /**
     * {@code nonfinite_values}: NaN and infinite values in a tensor the job decoded, whether the
     * {@code nonfinite} policy then applied, ignored or refused them (the sum of the records'
     * {@code nonfinite} fields, plus those of the refused batches).
     */
    public void nonfiniteValues(long n) {
        nonfiniteValues.inc(n);
    }

    /** {@code drift_events}: a tensor's range drifted (one per event the drift detection emits). */
    public void driftEvent() {
        driftEvents.inc();
    }
}
