package io.qparams.export.formats;

import io.qparams.connectors.records.JsonValues;
import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.Exporter;
import io.qparams.export.TestRecords;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each written AIMET entry gives back torch's scale and zero point bit for bit, as a reader derives
 * them: scale = (max - min) / (quant_max - quant_min) and zero point = quant_min - offset in 0.6.1
 * (min and max are all a QNN reader needs), scale and offset lists in 1.0.0, y_scale and
 * y_zero_point in 2.0.0.
 */
class AimetExportTest {
    @TempDir Path dir;

    /** Records of every spec the format takes (integer zero points; full range for 2.0.0). */
    private static List<ExportEntry> records(boolean fullRangeOnly) {
        Random random = new Random(11);
        List<ExportEntry> entries = new ArrayList<>();
        int i = 0;
        for (ObserverSpec spec : TestRecords.specs()) {
            if (spec.qscheme() == QScheme.per_channel_affine_float_qparams) {
                continue;
            }
            for (int k = 0; k < 5; k++) {
                ExportEntry e = TestRecords.record(String.format("t%04d", i++), spec, random);
                if (!e.record().isOk()) {
                    continue;
                }
                if (fullRangeOnly) {
                    try {
                        Grid.requireFullRange(e, "test");
                    } catch (ExportException narrower) {
                        continue;
                    }
                }
                entries.add(e);
            }
        }
        return entries;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> export(String version, List<ExportEntry> entries) throws Exception {
        Path out = dir.resolve("encodings-" + version + ".json");
        Exporter.export(new AimetExport(version), entries, out, System.err);
        return (Map<String, Object>) JsonValues.parse(Files.readAllBytes(out));
    }

    @Test
    @SuppressWarnings("unchecked")
    void version061() throws Exception {
        List<ExportEntry> entries = records(false);
        Map<String, Object> file = export("0.6.1", entries);
        assertEquals("0.6.1", file.get("version"));
        Map<String, Object> activations = (Map<String, Object>) file.get("activation_encodings");
        Map<String, Object> params = (Map<String, Object>) file.get("param_encodings");
        int perChannel = 0;
        for (ExportEntry e : entries) {
            QParamsRecord r = e.record();
            List<Map<String, Object>> channels =
                    (List<Map<String, Object>>)
                            (r.perChannel() ? params : activations).get(e.name());
            assertEquals(r.scale().length, channels.size(), e.name());
            perChannel += r.perChannel() ? 1 : 0;
            for (int c = 0; c < channels.size(); c++) {
                Map<String, Object> enc = channels.get(c);
                double min = ((Number) enc.get("min")).doubleValue();
                double max = ((Number) enc.get("max")).doubleValue();
                long offset = (Long) enc.get("offset");
                float scale = (float) ((max - min) / (r.quantMax() - r.quantMin()));
                assertEquals(
                        Float.floatToIntBits(r.scale()[c]), Float.floatToIntBits(scale), e.name());
                assertEquals(
                        Float.floatToIntBits(r.scale()[c]),
                        Float.floatToIntBits(((Number) enc.get("scale")).floatValue()));
                assertEquals(r.zeroPoint()[c], r.quantMin() - offset, e.name());
                assertEquals((long) Grid.bits(e, "test"), enc.get("bitwidth"));
                assertEquals(
                        r.qscheme().endsWith("symmetric") ? "True" : "False",
                        enc.get("is_symmetric"));
                assertEquals("int", enc.get("dtype"));
            }
        }
        assertTrue(
                perChannel > 20 && entries.size() - perChannel > 20,
                perChannel + " of " + entries.size());
    }

    @Test
    @SuppressWarnings("unchecked")
    void version100() throws Exception {
        List<ExportEntry> entries = records(false);
        Map<String, Object> file = export("1.0.0", entries);
        Map<String, Map<String, Object>> byName = new HashMap<>();
        for (String block : List.of("activation_encodings", "param_encodings")) {
            for (Object o : (List<Object>) file.get(block)) {
                Map<String, Object> enc = (Map<String, Object>) o;
                assertEquals(
                        block.equals("param_encodings") ? "PER_CHANNEL" : "PER_TENSOR",
                        enc.get("enc_type"));
                byName.put((String) enc.get("name"), enc);
            }
        }
        assertEquals(entries.size(), byName.size());
        for (ExportEntry e : entries) {
            QParamsRecord r = e.record();
            Map<String, Object> enc = byName.get(e.name());
            List<Object> scales = (List<Object>) enc.get("scale");
            List<Object> offsets = (List<Object>) enc.get("offset");
            for (int c = 0; c < r.scale().length; c++) {
                assertEquals(
                        Float.floatToIntBits(r.scale()[c]),
                        Float.floatToIntBits(((Number) scales.get(c)).floatValue()));
                assertEquals(r.zeroPoint()[c], r.quantMin() - (Long) offsets.get(c));
            }
            assertEquals("INT", enc.get("dtype"));
            assertEquals((long) Grid.bits(e, "test"), enc.get("bw"));
            assertEquals(r.qscheme().endsWith("symmetric"), enc.get("is_sym"));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void version200() throws Exception {
        List<ExportEntry> entries = records(true);
        Map<String, Object> file = export("2.0.0", entries);
        List<Object> encodings = (List<Object>) file.get("encodings");
        assertEquals(entries.size(), encodings.size());
        for (int i = 0; i < entries.size(); i++) {
            QParamsRecord r = entries.get(i).record();
            Map<String, Object> enc = (Map<String, Object>) encodings.get(i);
            assertEquals(entries.get(i).name(), enc.get("name"));
            Object scale = enc.get("y_scale");
            Object zero = enc.get("y_zero_point");
            for (int c = 0; c < r.scale().length; c++) {
                Number s = (Number) (r.perChannel() ? ((List<Object>) scale).get(c) : scale);
                long z =
                        zero == null
                                ? 0
                                : (Long) (r.perChannel() ? ((List<Object>) zero).get(c) : zero);
                assertEquals(
                        Float.floatToIntBits(r.scale()[c]), Float.floatToIntBits(s.floatValue()));
                assertEquals(r.zeroPoint()[c], z);
            }
            assertEquals(r.perChannel() ? r.chAxis() : null, enc.get("axis"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.6.1", "1.0.0", "2.0.0"})
    void floatZeroPointsAreRefused(String version) {
        ObserverSpec spec =
                TestRecords.spec(
                        ObserverKind.PerChannelMinMaxObserver,
                        QuantDtype.quint8,
                        QScheme.per_channel_affine_float_qparams);
        ExportEntry e = TestRecords.record("emb.weight", spec, new Random(3));
        ExportException refused =
                assertThrows(ExportException.class, () -> export(version, List.of(e)));
        assertTrue(
                refused.getMessage()
                        .startsWith("tensor 'emb.weight': per_channel_affine_float_qparams"),
                refused.getMessage());
    }

    @Test
    void version200RefusesAReducedRange() {
        ObserverSpec spec =
                ObserverSpec.builder(ObserverKind.MinMaxObserver)
                        .dtype(QuantDtype.quint8)
                        .reduceRange(true)
                        .build();
        ExportEntry e = TestRecords.record("fc.output", spec, -1f, 1f);
        ExportException refused =
                assertThrows(ExportException.class, () -> export("2.0.0", List.of(e)));
        assertTrue(
                refused.getMessage().contains("[0, 127] is not quint8's full range [0, 255]"),
                refused.getMessage());
    }

    @Test
    void anUnknownVersionIsRefused() {
        assertThrows(ExportException.class, () -> new AimetExport("0.6.2"));
    }
}
