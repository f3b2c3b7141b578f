package io.qparams.observers;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.qparams.observers.GoldenCases.floats;
import static io.qparams.observers.GoldenCases.hex;
import static io.qparams.observers.GoldenCases.list;
import static io.qparams.observers.GoldenCases.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Replays every golden case (recorded from real torch by observers/golden/generate_goldens.py)
 * through the Java API and compares bits. Each case runs twice: once feeding the tensors through
 * {@link BatchReducer}, once feeding each step's own batch min/max as stats, which must give the
 * same results ("stats == any tensor with that min/max").
 *
 * <p>Floats are compared by raw bits, with two exceptions that no consumer can observe:
 *
 * <ul>
 *   <li>any zero equals any zero: the sign of a zero that torch.aminmax returns depends on
 *       vector-lane order (OBSERVER-SPEC rule 3), and it carries into min_val, max_val and the
 *       float zero points computed from them;
 *   <li>any NaN equals any NaN: torch's NaN payloads are kernel artifacts (the vectorized
 *       per-tensor aminmax returns the all-ones mask {@code ffffffff}, the per-channel one keeps
 *       the input's payload, even a signaling {@code 7f800001}, torch.min/max return {@code
 *       7fc00000}); the contract writes every NaN as "NaN".
 * </ul>
 */
class GoldenReplayTest {
    private static final int MIN_CASES = 300;
    private static final int CHUNK = 13;

    @TestFactory
    Stream<DynamicNode> goldens() throws IOException, URISyntaxException {
        URL dir = GoldenReplayTest.class.getResource("/golden");
        assertTrue(dir != null, "no golden directory on the test classpath");
        List<Path> files;
        try (Stream<Path> listing = Files.list(Path.of(dir.toURI()))) {
            files =
                    listing.filter(p -> p.getFileName().toString().matches(".*\\.jsonl(\\.gz)?"))
                            .sorted()
                            .toList();
        }
        List<DynamicNode> containers = new ArrayList<>();
        int total = 0;
        for (Path file : files) {
            GoldenCases.GoldenFile golden;
            try (InputStream in = Files.newInputStream(file)) {
                golden = GoldenCases.read(file.getFileName().toString(), in);
            }
            total += golden.cases().size();
            String name = golden.name() + " (torch " + golden.meta().get("torch") + ")";
            containers.add(
                    DynamicContainer.dynamicContainer(
                            name,
                            golden.cases().stream()
                                    .map(
                                            c ->
                                                    DynamicTest.dynamicTest(
                                                            (String) c.get("id"),
                                                            () -> replay(c)))));
        }
        int cases = total;
        containers.add(
                DynamicTest.dynamicTest(
                        "at least " + MIN_CASES + " golden cases",
                        () -> assertTrue(cases >= MIN_CASES, "only " + cases + " golden cases")));
        return containers.stream();
    }

    private static void replay(Map<String, Object> c) {
        String id = (String) c.get("id");
        Map<String, Object> kwargs = map(c.get("kwargs"));
        String refusal = (String) c.get("error");
        ObserverSpec spec;
        try {
            spec = GoldenCases.spec((String) c.get("observer"), kwargs);
        } catch (InvalidObserverConfigException e) {
            if (refusal == null) {
                fail(id + ": Java refused a config torch accepts: " + e.getMessage());
            }
            assertEquals(
                    refusal,
                    GoldenCases.collapseWhitespace(e.getMessage()),
                    id + ": refusal message");
            return;
        }
        if (refusal != null) {
            fail(id + ": torch refused the config (" + refusal + ") but Java built " + spec);
        }
        List<ObserverState> viaTensors = run(id, spec, list(c.get("steps")), false);
        List<ObserverState> viaStats = run(id, spec, list(c.get("steps")), true);
        for (int i = 0; i < viaTensors.size(); i++) {
            Mismatches m = new Mismatches(id, i, "tensors vs stats");
            m.floats("min_val", viaTensors.get(i).minVal(), viaStats.get(i).minVal());
            m.floats("max_val", viaTensors.get(i).maxVal(), viaStats.get(i).maxVal());
            m.check();
        }
    }

    /** Replays the steps, checking each against the golden; returns the state after each step. */
    private static List<ObserverState> run(
            String id, ObserverSpec spec, List<Object> steps, boolean viaStats) {
        Observer observer = new Observer(spec);
        ObserverState state = observer.initialState();
        List<ObserverState> states = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Map<String, Object> step = map(steps.get(i));
            String op = (String) step.get("op");
            Mismatches m = new Mismatches(id, i, (viaStats ? "stats" : "tensors") + ", " + op);
            if (op.equals("reset")) {
                observer.reset(state);
            } else if (op.equals("observe")) {
                observe(observer, state, step, viaStats, m);
            } else if (!op.equals("initial")) {
                fail(id + " step " + i + ": unknown op " + op);
            }
            m.floats("min_val", floats(step.get("min_val")), state.minVal());
            m.floats("max_val", floats(step.get("max_val")), state.maxVal());
            compareQParams(observer.calculateQParams(state), step, m);
            m.check();
            states.add(state.copy());
        }
        return states;
    }

    private static void observe(
            Observer observer,
            ObserverState state,
            Map<String, Object> step,
            boolean viaStats,
            Mismatches m) {
        Map<String, Object> input = map(step.get("input"));
        long[] shape = GoldenCases.shape(input);
        ObserverSpec spec = observer.spec();
        ObserverState before = state.copy();
        if (step.containsKey("error")) {
            // torch raised in forward (a per-channel observer fed a batch without its ch_axis).
            if (!viaStats) {
                try {
                    BatchReducer.forSpec(spec, shape, false, NonFinitePolicy.PROPAGATE);
                    m.add(
                            "torch raised '"
                                    + step.get("error")
                                    + "' but BatchReducer.forSpec accepted the shape");
                } catch (InvalidBatchException expected) {
                    // the state must stay as it was
                }
            }
            m.state("state after a refused batch", before, state);
            return;
        }
        BatchMinMax batch;
        try {
            if (viaStats) {
                if (!step.containsKey("batch_min")) {
                    return; // an empty tensor: no stats, nothing observed
                }
                batch =
                        BatchMinMax.ofStats(
                                floats(step.get("batch_min")),
                                floats(step.get("batch_max")),
                                spec.isPerChannel());
            } else {
                BatchReducer reducer =
                        BatchReducer.forSpec(spec, shape, false, NonFinitePolicy.PROPAGATE);
                float[] values = GoldenCases.values(input);
                if (reducer.isEmpty()) {
                    if (values.length != 0) {
                        m.add(
                                "BatchReducer says empty but the batch holds "
                                        + values.length
                                        + " values");
                    }
                    return;
                }
                // In odd-sized chunks, as callers stream a decoded batch, so chunk boundaries fall
                // inside channel runs.
                for (int from = 0; from < values.length; from += CHUNK) {
                    reducer.accept(values, from, Math.min(values.length, from + CHUNK));
                }
                batch = reducer.finish();
                m.floats("batch_min", floats(step.get("batch_min")), batch.min());
                m.floats("batch_max", floats(step.get("batch_max")), batch.max());
            }
            observer.update(state, batch);
        } catch (InvalidBatchException e) {
            m.add("batch refused, torch took it: " + e.getMessage());
        }
    }

    private static void compareQParams(QParams q, Map<String, Object> step, Mismatches m) {
        if (step.containsKey("qparams_error")) {
            if (q.isValid()) {
                m.add(
                        "calculate_qparams: torch raised '"
                                + step.get("qparams_error")
                                + "', Java gave "
                                + q);
            }
            return;
        }
        if (!q.isValid()) {
            m.add(
                    "calculate_qparams: Java invalid ("
                            + q.invalidReason()
                            + "), torch gave scale "
                            + step.get("scale")
                            + " zero_point "
                            + step.get("zero_point"));
            return;
        }
        float[] scale = new float[q.size()];
        for (int i = 0; i < scale.length; i++) {
            scale[i] = q.scale(i);
        }
        m.floats("scale", floats(step.get("scale")), scale);
        List<Object> zp = list(step.get("zero_point"));
        if (zp.size() != q.size()) {
            m.add("zero_point: expected " + zp.size() + " entries, got " + q.size());
            return;
        }
        boolean floatGolden = !zp.isEmpty() && zp.get(0) instanceof String;
        if (floatGolden || q.hasFloatZeroPoint()) {
            float[] actual = new float[q.size()];
            for (int i = 0; i < actual.length; i++) {
                actual[i] = q.hasFloatZeroPoint() ? q.zeroPointFloat(i) : q.zeroPoint(i);
            }
            if (floatGolden && q.hasFloatZeroPoint()) {
                m.floats("zero_point", floats(zp), actual);
            } else {
                // Before any data torch returns its int64 default [0] even for float qparams, where
                // Java keeps the float representation [0.0]: the values must still agree.
                for (int i = 0; i < actual.length; i++) {
                    double expected =
                            zp.get(i) instanceof String
                                    ? floats(List.of(zp.get(i)))[0]
                                    : (Long) zp.get(i);
                    if (expected != actual[i] || floatGolden) {
                        m.add(
                                "zero_point["
                                        + i
                                        + "]: expected "
                                        + zp.get(i)
                                        + ", got "
                                        + actual[i]
                                        + (q.hasFloatZeroPoint() ? " (float)" : " (int)"));
                    }
                }
            }
        } else {
            for (int i = 0; i < q.size(); i++) {
                long expected = (Long) zp.get(i);
                if (expected != q.zeroPoint(i)) {
                    m.add(
                            "zero_point["
                                    + i
                                    + "]: expected "
                                    + expected
                                    + ", got "
                                    + q.zeroPoint(i));
                }
            }
        }
    }

    /**
     * Collects every difference in one step, so a failure names the case, the step and all fields.
     */
    private static final class Mismatches {
        private final String where;
        private final List<String> diffs = new ArrayList<>();

        Mismatches(String id, int step, String what) {
            this.where = id + " step " + step + " (" + what + ")";
        }

        void add(String diff) {
            diffs.add(diff);
        }

        void floats(String field, float[] expected, float[] actual) {
            if (expected.length != actual.length) {
                add(field + ": expected " + expected.length + " entries, got " + actual.length);
                return;
            }
            for (int i = 0; i < expected.length; i++) {
                if (!sameBits(expected[i], actual[i])) {
                    add(
                            field
                                    + "["
                                    + i
                                    + "]: expected "
                                    + hex(expected[i])
                                    + " ("
                                    + expected[i]
                                    + "), got "
                                    + hex(actual[i])
                                    + " ("
                                    + actual[i]
                                    + ")");
                }
            }
        }

        void state(String field, ObserverState expected, ObserverState actual) {
            floats(field + " min_val", expected.minVal(), actual.minVal());
            floats(field + " max_val", expected.maxVal(), actual.maxVal());
        }

        void check() {
            if (!diffs.isEmpty()) {
                fail(where + ":\n  " + String.join("\n  ", diffs));
            }
        }

        private static boolean sameBits(float expected, float actual) {
            return Float.floatToRawIntBits(expected) == Float.floatToRawIntBits(actual)
                    || (expected == 0.0f && actual == 0.0f)
                    || (Float.isNaN(expected) && Float.isNaN(actual));
        }
    }
}
