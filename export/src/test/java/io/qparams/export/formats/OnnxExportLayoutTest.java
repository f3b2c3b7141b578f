package io.qparams.export.formats;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.Exporter;
import io.qparams.export.TestRecords;
import io.qparams.export.formats.Protobuf.Field;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The onnx export's model as written, read back field by field: a QuantizeLinear/DequantizeLinear
 * pair per record whose {@code y_scale} holds the record's float32 scale bits and whose {@code
 * y_zero_point} holds its zero points in the dtype's ONNX type (uint8 for quint8, int8 for qint8),
 * scalars per tensor, 1-D with {@code axis} = ch_axis per channel; and the records the format
 * cannot express refused with one message naming the tensor, nothing written.
 */
class OnnxExportLayoutTest {
    private static final Path MODEL = OnnxExportTest.GOLDENS.resolve("model.onnx");

    @TempDir Path dir;

    private static List<Field> graph(byte[] model) throws Exception {
        for (Field f : Protobuf.read(model)) {
            if (f.number() == 7) {
                return Protobuf.read(f.bytes());
            }
        }
        throw new AssertionError("no graph");
    }

    /** The fields of a message by number, each number's values in order. */
    private static Map<Integer, List<Field>> byNumber(byte[] message) throws Exception {
        Map<Integer, List<Field>> m = new HashMap<>();
        for (Field f : Protobuf.read(message)) {
            m.computeIfAbsent(f.number(), k -> new ArrayList<>()).add(f);
        }
        return m;
    }

    @Test
    void everyRecordHasAPairWithItsExactScaleAndZeroPoint() throws Exception {
        List<ExportEntry> entries = OnnxExportTest.entries();
        Path out = dir.resolve("model.qdq.onnx");
        Exporter.export(new OnnxExport(MODEL), entries, out, System.err);
        Map<String, Map<Integer, List<Field>>> nodes = new HashMap<>();
        Map<String, Map<Integer, List<Field>>> initializers = new HashMap<>();
        for (Field f : graph(Files.readAllBytes(out))) {
            if (f.number() == 1 || f.number() == 5) {
                Map<Integer, List<Field>> m = byNumber(f.bytes());
                int nameField = f.number() == 1 ? 3 : 8;
                (f.number() == 1 ? nodes : initializers).put(m.get(nameField).get(0).string(), m);
            }
        }
        boolean perChannelSeen = false;
        for (ExportEntry e : entries) {
            QParamsRecord r = e.record();
            String base = e.name() + "/qparams/";
            Map<Integer, List<Field>> scale = initializers.get(base + "scale");
            Map<Integer, List<Field>> zeroPoint = initializers.get(base + "zero_point");
            assertEquals(1, scale.get(2).get(0).value(), e.name() + ": y_scale is float32");
            assertEquals(
                    r.dtype().equals("quint8") ? 2 : 3,
                    zeroPoint.get(2).get(0).value(),
                    e.name() + ": y_zero_point is uint8 for quint8, int8 for qint8");
            List<Long> dims = r.perChannel() ? List.of((long) r.scale().length) : List.of();
            for (Map<Integer, List<Field>> t : List.of(scale, zeroPoint)) {
                assertEquals(
                        dims,
                        t.getOrDefault(1, List.of()).stream().map(Field::value).toList(),
                        e.name() + ": dims");
            }
            ByteBuffer scales =
                    ByteBuffer.allocate(4 * r.scale().length).order(ByteOrder.LITTLE_ENDIAN);
            byte[] zeroPoints = new byte[r.zeroPoint().length];
            for (int c = 0; c < r.scale().length; c++) {
                scales.putInt(Float.floatToRawIntBits(r.scale()[c]));
                zeroPoints[c] = (byte) r.zeroPoint()[c];
            }
            assertArrayEquals(
                    scales.array(), scale.get(9).get(0).bytes(), e.name() + ": scale bits");
            assertArrayEquals(
                    zeroPoints, zeroPoint.get(9).get(0).bytes(), e.name() + ": zero points");
            for (String op : List.of("QuantizeLinear", "DequantizeLinear")) {
                Map<Integer, List<Field>> node = nodes.get(base + op);
                assertEquals(op, node.get(4).get(0).string());
                List<String> inputs = node.get(1).stream().map(Field::string).toList();
                assertEquals(List.of(base + "scale", base + "zero_point"), inputs.subList(1, 3));
                List<Field> attributes = node.getOrDefault(5, List.of());
                if (r.perChannel()) {
                    Map<Integer, List<Field>> axis = byNumber(attributes.get(0).bytes());
                    assertEquals("axis", axis.get(1).get(0).string());
                    assertEquals((long) r.chAxis(), axis.get(3).get(0).value(), e.name());
                    perChannelSeen = true;
                } else {
                    assertTrue(attributes.isEmpty(), e.name() + ": no axis per tensor");
                }
            }
        }
        assertTrue(perChannelSeen, "the goldens have a per-channel record");
        assertEquals(
                2 * entries.size(),
                initializers.keySet().stream().filter(n -> n.contains("/qparams/")).count());
    }

    /** Exports {@code e} and expects a refusal starting with {@code message}, nothing written. */
    private void assertRefused(Path model, ExportEntry e, String message) throws Exception {
        Path out = dir.resolve("refused.onnx");
        ExportException refused =
                assertThrows(
                        ExportException.class,
                        () -> Exporter.export(new OnnxExport(model), List.of(e), out, System.err));
        assertTrue(refused.getMessage().startsWith(message), refused.getMessage());
        assertFalse(refused.getMessage().contains("\n"), refused.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(
                    List.of(),
                    files.filter(p -> p.getFileName().toString().contains("refused")).toList(),
                    "nothing written, no staging file left");
        }
    }

    private static ExportEntry named(String name, ExportEntry e) {
        return new ExportEntry(name, e.record(), e.json());
    }

    @Test
    void whatOnnxCannotExpressIsRefusedNamingTheTensor() throws Exception {
        assertTrue(
                assertThrows(ExportException.class, () -> new OnnxExport(null))
                        .getMessage()
                        .startsWith("--format onnx needs --model IN.onnx"));
        ExportEntry known = OnnxExportTest.entries().get(0);
        assertRefused(
                MODEL,
                named("no/such/value", known),
                "tensor '" + known.tensor() + "': the model has no value 'no/such/value'");

        Random random = new Random(17);
        ObserverSpec floatQParams =
                TestRecords.spec(
                        ObserverKind.PerChannelMinMaxObserver,
                        QuantDtype.quint8,
                        QScheme.per_channel_affine_float_qparams);
        assertRefused(
                MODEL,
                named(
                        "/conv/Conv_output_0",
                        TestRecords.record("emb.weight", floatQParams, random)),
                "tensor 'emb.weight': per_channel_affine_float_qparams (float zero points) cannot"
                        + " be expressed in the onnx format");

        ObserverSpec reduced =
                ObserverSpec.builder(ObserverKind.MinMaxObserver)
                        .dtype(QuantDtype.quint8)
                        .reduceRange(true)
                        .build();
        assertRefused(
                MODEL,
                named("relu_out", TestRecords.record("relu.output", reduced, -1f, 1f)),
                "tensor 'relu.output': quant range [0, 127] is not quint8's full range [0, 255]");

        ObserverSpec int32 =
                TestRecords.spec(
                        ObserverKind.MinMaxObserver, QuantDtype.qint32, QScheme.per_tensor_affine);
        assertRefused(
                MODEL,
                named("fc_out", TestRecords.record("fc.output", int32, -1f, 1f)),
                "tensor 'fc.output': dtype qint32 has no QuantizeLinear output type");
    }

    @Test
    void perChannelNeedsOpset13() throws Exception {
        // The goldens' model with its default-domain opset import set to 12.
        List<Field> model = new ArrayList<>();
        for (Field f : Protobuf.read(Files.readAllBytes(MODEL))) {
            if (f.number() != 8) {
                model.add(f);
                continue;
            }
            List<Field> opset = new ArrayList<>();
            for (Field g : Protobuf.read(f.bytes())) {
                opset.add(g.number() == 2 ? Field.varint(2, 12) : g);
            }
            model.add(Field.message(8, opset));
        }
        Path opset12 = Files.write(dir.resolve("opset12.onnx"), Protobuf.write(model));
        ExportEntry conv =
                OnnxExportTest.entries().stream()
                        .filter(e -> e.record().perChannel())
                        .findFirst()
                        .orElseThrow();
        assertRefused(
                opset12,
                conv,
                "tensor 'conv.output': a per-channel QuantizeLinear (axis) needs opset 13, the"
                        + " model has 12");
    }
}
