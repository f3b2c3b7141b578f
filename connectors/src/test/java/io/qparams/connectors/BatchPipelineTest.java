package io.qparams.connectors;

import io.qparams.connectors.batch.NpyWriter;
import io.qparams.connectors.batch.StatsJson;
import io.qparams.connectors.config.ObserverConfigLoader;
import io.qparams.connectors.records.QParamsRecordEncoder;
import io.qparams.connectors.records.RecordSource;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.Observer;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import io.qparams.observers.ValueCounts;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchPipelineTest {
    private static final ObserverConfig CONFIG =
            ObserverConfigLoader.parse(
                    String.join(
                            "\n",
                            "observers:",
                            "  - match: \"*.weight\"",
                            "    observer: PerChannelMinMaxObserver",
                            "  - match: \"act.*\"",
                            "    observer: MovingAverageMinMaxObserver",
                            ""),
                    "test.yaml");
    private static final RecordSource SOURCE = RecordSource.kafka("activations", 0, 7);

    private final BatchPipeline pipeline = new BatchPipeline(CONFIG);

    @Test
    void aTensorNoRuleMatchesIsRefusedByName() {
        InvalidBatchException e =
                assertThrows(InvalidBatchException.class, () -> pipeline.ruleFor("other.out"));
        assertEquals("no observer rule matches tensor 'other.out'", e.getMessage());
    }

    @Test
    void aMissingValueIsRefused() throws InvalidBatchException {
        int rule = pipeline.ruleFor("act.0");
        InvalidBatchException e =
                assertThrows(InvalidBatchException.class, () -> pipeline.decode(rule, null, null));
        assertEquals("record has no value: expected a batch", e.getMessage());
    }

    @Test
    void anEmptyTensorGivesNothing() throws InvalidBatchException {
        int rule = pipeline.ruleFor("act.0");
        assertNull(pipeline.decode(rule, NpyWriter.float32(new long[] {0}, new float[0]), null));
    }

    /**
     * Decode, observe and encode back to back give what the observers API and the encoder give by
     * hand.
     */
    @Test
    void theRecordIsTheObserversResultEncoded() throws InvalidBatchException {
        int rule = pipeline.ruleFor("act.0");
        ObserverState state = pipeline.initialState(rule);
        BatchMinMax batch =
                pipeline.decode(
                        rule,
                        NpyWriter.float32(new long[] {4}, new float[] {-1.5f, 0.25f, -0f, 2f}),
                        "application/x-npy");
        byte[] record = pipeline.observe("act.0", rule, state, batch, SOURCE);

        Observer observer = CONFIG.observerFor("act.0");
        ObserverState expected = observer.initialState();
        observer.update(expected, BatchMinMax.perTensor(-1.5f, 2f));
        assertArrayEquals(
                new QParamsRecordEncoder()
                        .encode(
                                "act.0",
                                observer.spec(),
                                expected,
                                observer.calculateQParams(expected),
                                SOURCE,
                                null,
                                null,
                                new ValueCounts(4, 0, 1)), // the decoded tensor's counts
                record);
        assertEquals(1, state.batches());
    }

    @Test
    void aBatchTheObserverRefusesLeavesTheStateAsItWas() throws InvalidBatchException {
        int rule = pipeline.ruleFor("fc.weight");
        ObserverState state = pipeline.initialState(rule);
        pipeline.observe(
                "fc.weight",
                rule,
                state,
                BatchMinMax.perChannel(new float[] {-1, -2}, new float[] {1, 2}),
                SOURCE);
        BatchMinMax three =
                pipeline.decode(
                        rule,
                        StatsJson.encode(
                                BatchMinMax.perChannel(
                                        new float[] {-1, -2, -3}, new float[] {1, 2, 3})),
                        null);
        InvalidBatchException e =
                assertThrows(
                        InvalidBatchException.class,
                        () -> pipeline.observe("fc.weight", rule, state, three, SOURCE));
        assertTrue(e.getMessage().contains("channel count changed from 2 to 3"), e.getMessage());
        assertEquals(1, state.batches());
        assertEquals(2, state.size());
    }
}
