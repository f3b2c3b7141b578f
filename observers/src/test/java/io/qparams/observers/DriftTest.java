package io.qparams.observers;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The drift rule of CONTRACT section 7 on a real observer: each verdict re-derived from the scales
 * the records carry, the episodes, the records without a verdict, and the history's bound.
 */
class DriftTest {
    private final Observer minMax =
            new Observer(ObserverSpec.builder(ObserverKind.MinMaxObserver).build());
    private final ObserverState state = minMax.initialState();
    private final Drift.MemoryHistory history = new Drift.MemoryHistory();

    /** Applies a batch [0, max] and returns its verdict and its scale. */
    private Drift apply(DriftRule rule, float max, List<Float> scales) throws Exception {
        minMax.update(state, BatchMinMax.perTensor(0f, max));
        QParams q = minMax.calculateQParams(state);
        scales.add(q.scale(0));
        return Drift.check(rule, state.batches(), q, history);
    }

    @Test
    void theRatioComparesTheScaleWithItsValueWindowBatchesEarlier() throws Exception {
        DriftRule rule = new DriftRule("*", 3, 0.25);
        List<Float> scales = new ArrayList<>();
        float[] maxima = {1, 1.1f, 1.2f, 1.3f, 1.4f, 2.5f, 2.6f, 2.7f, 2.8f, 2.9f, 3f, 3f, 3f, 3f};
        List<Boolean> drifting = new ArrayList<>();
        List<Boolean> starts = new ArrayList<>();
        for (int n = 1; n <= maxima.length; n++) {
            Drift d = apply(rule, maxima[n - 1], scales);
            if (n <= 3) {
                assertNull(d, "no verdict before batch window + 1 (batch " + n + ")");
                continue;
            }
            assertNotNull(d, "batch " + n);
            float before = scales.get(n - 1 - 3);
            float now = scales.get(n - 1);
            float expected = (float) (Math.abs((double) now - before) / before);
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(d.ratio()), "n=" + n);
            assertEquals(expected > 0.25, d.drifting(), "n=" + n);
            assertEquals(Float.floatToIntBits(before), Float.floatToIntBits(d.scaleBefore()));
            assertEquals(Float.floatToIntBits(now), Float.floatToIntBits(d.scaleNow()));
            assertEquals(0, d.channel());
            drifting.add(d.drifting());
            starts.add(d.episodeStart());
        }
        // Batches 4..14: 1.3/1 = 30% (drift), 1.4/1.1, 2.5/1.2, 2.6/1.3, 2.7/1.4 (all drift), then
        // 2.8/2.5 = 12%, 2.9/2.6, 3/2.7, 3/2.8 (no drift), 3/2.9 = 3.4%, 3/3.
        assertEquals(
                List.of(true, true, true, true, true, false, false, false, false, false, false),
                drifting);
        assertEquals(
                List.of(true, false, false, false, false, false, false, false, false, false, false),
                starts,
                "one event for the one episode");
    }

    @Test
    void aRecordWithoutDriftEndsTheEpisodeAndTheNextDriftStartsAnother() throws Exception {
        DriftRule rule = new DriftRule("*", 1, 0.5);
        List<Float> scales = new ArrayList<>();
        float[] maxima = {1, 2, 4, 4.1f, 9, 20};
        List<Boolean> starts = new ArrayList<>();
        for (float max : maxima) {
            Drift d = apply(rule, max, scales);
            starts.add(d != null && d.episodeStart());
        }
        // 2/1, 4/2: one episode; 4.1/4 ends it; 9/4.1, 20/9: a second one.
        assertEquals(List.of(false, true, false, false, true, false), starts);
    }

    @Test
    void aPerChannelVerdictIsItsWorstChannel() throws Exception {
        Observer perChannel =
                new Observer(
                        ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver)
                                .chAxis(0)
                                .build());
        ObserverState s = perChannel.initialState();
        DriftRule rule = new DriftRule("*", 1, 0.1);
        perChannel.update(s, BatchMinMax.perChannel(new float[3], new float[] {1, 1, 1}));
        assertNull(Drift.check(rule, s.batches(), perChannel.calculateQParams(s), history));
        perChannel.update(s, BatchMinMax.perChannel(new float[3], new float[] {1.05f, 1.5f, 1.2f}));
        QParams q = perChannel.calculateQParams(s);
        Drift d = Drift.check(rule, s.batches(), q, history);
        assertEquals(1, d.channel());
        assertEquals(Float.floatToIntBits(q.scale(1)), Float.floatToIntBits(d.scaleNow()));
        assertTrue(d.drifting() && d.episodeStart());
    }

    @Test
    void anInvalidRecordHasNoVerdictAndNoneIsJudgedAgainstIt() throws Exception {
        Observer propagate =
                new Observer(
                        ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver).build());
        ObserverState s = propagate.initialState();
        DriftRule rule = new DriftRule("*", 1, 0.1);
        propagate.update(s, BatchMinMax.perTensor(0f, 1f));
        Drift.check(rule, s.batches(), propagate.calculateQParams(s), history);
        propagate.update(s, BatchMinMax.perTensor(Float.NaN, 1f));
        QParams invalid = propagate.calculateQParams(s);
        assertFalse(invalid.isValid());
        assertNull(Drift.check(rule, s.batches(), invalid, history));
        ObserverState fresh = propagate.initialState();
        propagate.update(fresh, BatchMinMax.perTensor(0f, 5f));
        assertNull(
                Drift.check(rule, 3, propagate.calculateQParams(fresh), history),
                "batch 2 had no scale: batch 3 has nothing to compare with");
    }

    @Test
    void aChannelWhoseEarlierScaleIsZeroMovedInfinitelyUnlessStillZero() {
        assertEquals(0f, Drift.ratio(0f, 0f));
        assertEquals(Float.POSITIVE_INFINITY, Drift.ratio(0f, 1e-9f));
        assertEquals(0.5f, Drift.ratio(2f, 1f));
    }

    @Test
    void theHistoryKeepsOneWindowOfScales() throws Exception {
        DriftRule rule = new DriftRule("*", 5, 0.25);
        List<Float> scales = new ArrayList<>();
        for (int n = 1; n <= 50; n++) {
            apply(rule, n, scales);
        }
        Field f = Drift.MemoryHistory.class.getDeclaredField("scales");
        f.setAccessible(true);
        assertEquals(5, ((Map<?, ?>) f.get(history)).size());
    }

    @Test
    void aRuleRefusesWindowsAndThresholdsItCannotUse() {
        for (int window : new int[] {0, -1, DriftRule.MAX_WINDOW + 1}) {
            assertThrows(InvalidObserverConfigException.class, () -> new DriftRule("*", window, 1));
        }
        for (double threshold : new double[] {0, -0.5, Double.NaN, Double.POSITIVE_INFINITY}) {
            InvalidObserverConfigException e =
                    assertThrows(
                            InvalidObserverConfigException.class,
                            () -> new DriftRule("*", 10, threshold));
            assertTrue(e.getMessage().contains("'threshold'"), e.getMessage());
        }
        assertTrue(new DriftRule("layer.*", 1, 2).matches("layer.0.output"));
        assertFalse(new DriftRule("layer.*", 1, 2).matches("head.output"));
    }
}
