package io.qparams.connectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qparams.connectors.config.ObserverConfigLoader;
import io.qparams.connectors.records.ContractSchemas;
import io.qparams.connectors.records.RecordSource;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Drift;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drift through the pipeline the job and calibrate share (CONTRACT section 7): which records carry
 * {@code drift}/{@code drift_ratio}, their values re-derived from the records' own scales, and the
 * event of each episode's first record, every record and event checked against docs/schema.
 */
class DriftPipelineTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObserverConfig CONFIG =
            ObserverConfigLoader.parse(
                    String.join(
                            "\n",
                            "observers:",
                            "  - match: \"*.weight\"",
                            "    observer: PerChannelMinMaxObserver",
                            "  - match: \"*\"",
                            "    observer: MinMaxObserver",
                            "drift:",
                            "  - {match: \"act.*\", window: 2, threshold: 0.3}",
                            "  - {match: \"*.weight\", window: 1, threshold: 0.1}",
                            ""),
                    "drift.yaml");

    private final BatchPipeline pipeline = new BatchPipeline(CONFIG);

    private record Out(JsonNode record, byte[] bytes, byte[] event) {}

    private List<Out> run(String tensor, Drift.History history, BatchMinMax... batches)
            throws Exception {
        int rule = pipeline.ruleFor(tensor);
        ObserverState state = pipeline.initialState(rule);
        List<Out> out = new ArrayList<>();
        for (int i = 0; i < batches.length; i++) {
            byte[] record =
                    pipeline.observe(
                            tensor,
                            rule,
                            state,
                            batches[i],
                            RecordSource.kafka("activations", 0, i),
                            null,
                            history);
            ContractSchemas.assertRecord(record);
            byte[] event = pipeline.driftEvent();
            if (event != null) {
                ContractSchemas.assertDriftEvent(event);
            }
            out.add(new Out(JSON.readTree(record), record, event));
        }
        return out;
    }

    private static BatchMinMax upTo(float max) {
        return BatchMinMax.perTensor(0f, max);
    }

    @Test
    void recordsCarryTheVerdictFromBatchWindowPlusOneAndEpisodesSendOneEvent() throws Exception {
        List<Out> out =
                run(
                        "act.0",
                        new Drift.MemoryHistory(),
                        upTo(1),
                        upTo(1.1f),
                        upTo(1.2f),
                        upTo(2f),
                        upTo(2.1f),
                        upTo(2.2f),
                        upTo(2.3f),
                        upTo(4f));
        for (int n = 1; n <= out.size(); n++) {
            JsonNode r = out.get(n - 1).record();
            if (n <= 2) {
                assertFalse(r.has("drift") || r.has("drift_ratio"), "batch " + n);
                continue;
            }
            float now = r.get("scale").floatValue();
            float before = out.get(n - 3).record().get("scale").floatValue();
            float ratio = (float) (Math.abs((double) now - before) / before);
            assertEquals(ratio, r.get("drift_ratio").floatValue(), "batch " + n);
            assertEquals(ratio > 0.3, r.get("drift").booleanValue(), "batch " + n);
        }
        // 1.2/1 no, 2/1.1 yes (event), 2.1/1.2 yes, 2.2/2 no, 2.3/2.1 no, 4/2.2 yes (event)
        List<Integer> eventBatches = new ArrayList<>();
        for (Out o : out) {
            if (o.event() != null) {
                eventBatches.add(o.record().get("batches").intValue());
            }
        }
        assertEquals(List.of(4, 8), eventBatches);

        Out start = out.get(3);
        JsonNode event = JSON.readTree(start.event());
        assertEquals("act.0", event.get("tensor").asText());
        assertEquals("drift", event.get("event").asText());
        assertEquals(4, event.get("batches").intValue());
        assertEquals(2, event.get("window").intValue());
        assertEquals(0.3, event.get("threshold").doubleValue());
        assertEquals(start.record().get("drift_ratio"), event.get("drift_ratio"));
        assertEquals(start.record().get("scale"), event.get("scale"));
        assertEquals(out.get(1).record().get("scale"), event.get("scale_before"));
        assertEquals(start.record().get("source"), event.get("source"));
        assertFalse(event.has("channel"), "per-tensor events name no channel");
        assertEquals(
                "scale moved by "
                        + String.format(
                                java.util.Locale.ROOT,
                                "%.1f",
                                start.record().get("drift_ratio").floatValue() * 100.0)
                        + "% over 2 batches ("
                        + out.get(1).record().get("scale").floatValue()
                        + " -> "
                        + start.record().get("scale").floatValue()
                        + "), above the drift threshold of 30%",
                event.get("reason").asText());
        String bytes = new String(start.bytes(), StandardCharsets.UTF_8);
        assertTrue(
                bytes.contains(
                        ",\"drift\":true,\"drift_ratio\":"
                                + start.record().get("drift_ratio").toString()
                                + ",\"source\":{"),
                "the drift fields come right before source: " + bytes);
    }

    @Test
    void aPerChannelEventNamesTheChannelThatMovedMost() throws Exception {
        List<Out> out =
                run(
                        "conv.weight",
                        new Drift.MemoryHistory(),
                        BatchMinMax.perChannel(new float[3], new float[] {1, 1, 1}),
                        BatchMinMax.perChannel(new float[3], new float[] {1, 1.05f, 1.5f}));
        JsonNode event = JSON.readTree(out.get(1).event());
        assertEquals(2, event.get("channel").intValue());
        assertEquals(out.get(1).record().get("scale").get(2), event.get("scale"));
        assertEquals(out.get(0).record().get("scale").get(2), event.get("scale_before"));
        assertTrue(event.get("reason").asText().startsWith("scale of channel 2 moved by 50.0%"));
    }

    @Test
    void aTensorNoRuleWatchesOrWithoutAHistoryHasNoDriftFields() throws Exception {
        for (Out o : run("other", new Drift.MemoryHistory(), upTo(1), upTo(5), upTo(50))) {
            assertFalse(o.record().has("drift"));
            assertNull(o.event());
        }
        for (Out o : run("act.1", null, upTo(1), upTo(5), upTo(50))) {
            assertFalse(o.record().has("drift"), "calibrate and the job always give a history");
            assertNull(o.event());
        }
        assertNotNull(pipeline.driftRuleFor("act.1"));
        assertNull(pipeline.driftRuleFor("other"));
    }
}
