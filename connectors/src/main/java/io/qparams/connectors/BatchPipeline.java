package io.qparams.connectors;

import io.qparams.connectors.batch.BatchDecoder;
import io.qparams.connectors.records.DriftEventEncoder;
import io.qparams.connectors.records.MergedStep;
import io.qparams.connectors.records.QParamsRecordEncoder;
import io.qparams.connectors.records.RecordSource;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Drift;
import io.qparams.observers.DriftRule;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import io.qparams.observers.QParams;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One batch's way from a record value to a qparams record, written once for the job and for {@code
 * qparams calibrate}: find the tensor's rule, decode and reduce the value as the rule's observer
 * reduces a batch, apply the reduced batch to the tensor's state, encode the record. The job runs
 * the two halves on either side of its keyBy (decode in the source task, so only min/max vectors
 * cross the network; observe where the state lives); the CLI runs them back to back. Every refusal
 * is an {@link InvalidBatchException} whose one-line message is the reason a dead letter or the CLI
 * gives.
 *
 * <p>One per thread: not thread-safe (the decoder and the encoder reuse their buffers).
 */
public final class BatchPipeline {
    /**
     * Tensor names whose rule is remembered; past it the memory starts afresh (a bound, not an LRU:
     * models have far fewer tensors, and a stream of ever-new names only costs the glob matches).
     */
    static final int RULE_CACHE_ENTRIES = 1 << 16;

    private final ObserverConfig config;
    private final BatchDecoder decoder;
    private final QParamsRecordEncoder encoder = new QParamsRecordEncoder();
    private final DriftEventEncoder driftEvents = new DriftEventEncoder();

    /** The drift event of the last {@link #observe}, or null. */
    private byte[] driftEvent;

    /** Tensor name to rule index: every batch asks, and the globs are regular expressions. */
    private final Map<String, Integer> rules = new HashMap<>();

    /** Tensor name to its drift rule, or empty when it is not watched (same bound as rules). */
    private final Map<String, Optional<DriftRule>> driftRules = new HashMap<>();

    public BatchPipeline(ObserverConfig config) {
        this(config, BatchDecoder.DEFAULT_MAX_VALUE_BYTES);
    }

    /**
     * @param maxBatchBytes larger values are refused before any parsing
     */
    public BatchPipeline(ObserverConfig config, int maxBatchBytes) {
        this.config = config;
        this.decoder = new BatchDecoder(maxBatchBytes);
    }

    /**
     * The index of the first rule whose glob matches the tensor: it names the observer in the job's
     * events and states.
     *
     * @throws InvalidBatchException when no rule matches
     */
    public int ruleFor(String tensor) throws InvalidBatchException {
        Integer known = rules.get(tensor);
        int rule = known != null ? known : config.ruleIndexFor(tensor);
        if (known == null && rule >= 0) {
            if (rules.size() == RULE_CACHE_ENTRIES) {
                rules.clear();
            }
            rules.put(tensor, rule);
        }
        if (rule < 0) {
            throw new InvalidBatchException("no observer rule matches tensor '" + tensor + "'");
        }
        return rule;
    }

    /** The tensor's drift rule (CONTRACT section 7), or null when it is not watched. */
    public DriftRule driftRuleFor(String tensor) {
        if (config.drift().isEmpty()) {
            return null;
        }
        Optional<DriftRule> known = driftRules.get(tensor);
        if (known == null) {
            if (driftRules.size() == RULE_CACHE_ENTRIES) {
                driftRules.clear();
            }
            known = Optional.ofNullable(config.driftRuleFor(tensor));
            driftRules.put(tensor, known);
        }
        return known.orElse(null);
    }

    /**
     * Decodes a record value and reduces it to min/max as the rule's observer reduces a batch.
     *
     * @param contentType the record's {@code content-type}, or null to let the bytes decide
     * @return the reduced batch, or null for an empty tensor (nothing to apply or emit, as in
     *     torch)
     * @throws InvalidBatchException for a missing, malformed or refused value
     */
    public BatchMinMax decode(int rule, byte[] value, String contentType)
            throws InvalidBatchException {
        if (value == null) {
            throw new InvalidBatchException("record has no value: expected a batch");
        }
        return decoder.decode(value, contentType, observer(rule).spec(), config.nonFinite());
    }

    /** The state a tensor of this rule starts from (and returns to on a reset). */
    public ObserverState initialState(int rule) {
        return observer(rule).initialState();
    }

    /**
     * Applies a reduced batch to the tensor's state and encodes the qparams record of the result.
     *
     * @param state updated in place; left as it was when the batch is refused
     * @throws InvalidBatchException when the observer refuses the batch (its channel count changed,
     *     or per-tensor stats reached a per-channel observer)
     */
    public byte[] observe(
            String tensor, int rule, ObserverState state, BatchMinMax batch, RecordSource source)
            throws InvalidBatchException {
        return observe(tensor, rule, state, batch, source, null, null);
    }

    /**
     * As above, for the merged shards of a data-parallel step: one update, and a record that names
     * the step.
     *
     * @param step null for a batch of its own
     * @param history the tensor's drift history, used when a drift rule watches the tensor: the
     *     record gets the rule's verdict, and the first record of an episode a {@link #driftEvent}
     */
    public byte[] observe(
            String tensor,
            int rule,
            ObserverState state,
            BatchMinMax batch,
            RecordSource source,
            MergedStep step,
            Drift.History history)
            throws InvalidBatchException {
        Observer observer = observer(rule);
        observer.update(state, batch);
        QParams qparams = observer.calculateQParams(state);
        DriftRule driftRule = history == null ? null : driftRuleFor(tensor);
        Drift drift =
                driftRule == null
                        ? null
                        : Drift.check(driftRule, state.batches(), qparams, history);
        driftEvent =
                drift != null && drift.episodeStart()
                        ? driftEvents.encode(
                                tensor,
                                state.batches(),
                                drift,
                                observer.spec().isPerChannel(),
                                source)
                        : null;
        return encoder.encode(
                tensor, observer.spec(), state, qparams, source, step, drift, batch.counts());
    }

    /**
     * The drift event (CONTRACT section 7) of the last {@link #observe}: the JSON value for the
     * events topic when its record started a drift episode, else null.
     */
    public byte[] driftEvent() {
        return driftEvent;
    }

    private Observer observer(int rule) {
        return config.rules().get(rule).observer();
    }
}
