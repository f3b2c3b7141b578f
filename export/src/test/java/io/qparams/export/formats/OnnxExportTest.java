package io.qparams.export.formats;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.qparams.connectors.records.JsonValues;
import io.qparams.export.ExportEntry;
import io.qparams.export.Exporter;
import io.qparams.export.LatestRecords;
import io.qparams.export.TensorSelection;
import io.qparams.export.formats.Protobuf.Field;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The onnx export run by ONNX Runtime (its Java API, from Maven Central): the goldens
 * (src/test/resources/onnx, generate_onnx_goldens.py with Debian's torch) are a CNN made by
 * torch.onnx.export, torch observers' records of four of its values (the graph input, a per-channel
 * conv output, the two outputs) and, at each of them, torch's quantized integers ({@code
 * quantize_per_tensor} / {@code quantize_per_channel}, {@code int_repr()}), dequantized floats and
 * fake-quantized floats. The test makes every pair's QuantizeLinear output (the integers) and
 * DequantizeLinear output (the floats) a graph output, so ONNX Runtime hands back both at all four
 * values, and compares them element for element with torch's.
 *
 * <p>Where the libraries' rounding differs (ONNX's QuantizeLinear divides by the scale, torch's
 * quantize_per_tensor multiplies by the float reciprocal of the scale), an element can land one
 * step away: the test counts those, asserts each is exactly one step and that they are rare
 * (docs/export.md), and every other element equals torch's integer, and its dequantized float
 * equals torch's dequantize() and fake-quantize bit for bit.
 */
class OnnxExportTest {
    static final Path GOLDENS = Path.of("src/test/resources/onnx");
    private static final int ONNX_FLOAT = 1;

    @TempDir Path dir;

    /** The goldens' records, named by --rename as the model's values. */
    static List<ExportEntry> entries() throws Exception {
        return TensorSelection.of(List.of(), GOLDENS.resolve("rename.txt"))
                .select(LatestRecords.fromFile(GOLDENS.resolve("records.jsonl")), System.err);
    }

    private static float[] floats(Object hexes) {
        List<?> list = (List<?>) hexes;
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat(Integer.parseUnsignedInt((String) list.get(i), 16));
        }
        return out;
    }

    /** A ValueInfoProto of a tensor of the given element type, shape left to the runtime. */
    private static Field output(String name, int elemType) {
        List<Field> tensorType = List.of(Field.varint(1, elemType));
        return Field.message(
                12,
                List.of(
                        Field.string(1, name),
                        Field.message(2, List.of(Field.message(1, tensorType)))));
    }

    /** The model with the named values (name -> ONNX element type) added as graph outputs. */
    private static byte[] withOutputs(byte[] model, Map<String, Integer> values) throws Exception {
        List<Field> modelFields = Protobuf.read(model);
        List<Field> out = new ArrayList<>();
        for (Field f : modelFields) {
            if (f.number() != 7) {
                out.add(f);
                continue;
            }
            List<Field> graph = new ArrayList<>(Protobuf.read(f.bytes()));
            Set<String> outputs = new HashSet<>();
            for (Field g : graph) {
                if (g.number() == 12) {
                    outputs.add(Protobuf.read(g.bytes()).get(0).string());
                }
            }
            values.forEach(
                    (name, type) -> {
                        if (!outputs.contains(name)) {
                            graph.add(output(name, type));
                        }
                    });
            out.add(Field.message(7, graph));
        }
        return Protobuf.write(out);
    }

    @Test
    @SuppressWarnings("unchecked")
    void onnxRuntimeQuantizesAsTorchDoes() throws Exception {
        Path out = dir.resolve("model.qdq.onnx");
        Exporter.export(new OnnxExport(GOLDENS.resolve("model.onnx")), entries(), out, System.err);
        Map<String, Object> expected =
                (Map<String, Object>)
                        JsonValues.parse(Files.readAllBytes(GOLDENS.resolve("expected.json")));
        Map<String, Map<String, Object>> values =
                (Map<String, Map<String, Object>>) expected.get("values");
        assertEquals(4, values.size(), "the input, the per-channel conv output, the two outputs");

        // Where each value's pair puts its integers and its floats: a graph input keeps its name
        // and its consumers read X/qparams/dequantized; a produced value is X again after the pair.
        Map<String, String[]> probes = new LinkedHashMap<>();
        Map<String, Integer> outputs = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Object>> v : values.entrySet()) {
            String name = v.getKey();
            String quantized = name + "/qparams/quantized";
            String dequantized = name.equals("input") ? name + "/qparams/dequantized" : name;
            probes.put(name, new String[] {quantized, dequantized});
            outputs.put(quantized, v.getValue().get("dtype").equals("quint8") ? 2 : 3);
            outputs.put(dequantized, ONNX_FLOAT);
        }
        Path probed = dir.resolve("model.qdq.probed.onnx");
        Files.write(probed, withOutputs(Files.readAllBytes(out), outputs));

        Map<String, Object> x = (Map<String, Object>) expected.get("x");
        long[] shape = ((List<?>) x.get("shape")).stream().mapToLong(d -> (Long) d).toArray();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int oneStep = 0;
        int elements = 0;
        // Graph optimizations off: the QuantizeLinear/DequantizeLinear pairs run as written (the
        // reference semantics torch's quantize/dequantize are compared with); ORT's default level
        // fuses them with the conv into QLinearConv, an integer kernel (docs/export.md).
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        try (options;
                OrtSession session = env.createSession(probed.toString(), options);
                OnnxTensor input =
                        OnnxTensor.createTensor(
                                env, FloatBuffer.wrap(floats(x.get("hex"))), shape);
                OrtSession.Result result = session.run(Map.of("input", input))) {
            for (Map.Entry<String, Map<String, Object>> v : values.entrySet()) {
                String name = v.getKey();
                Map<String, Object> want = v.getValue();
                boolean unsigned = want.get("dtype").equals("quint8");
                ByteBuffer q =
                        ((OnnxTensor) result.get(probes.get(name)[0]).orElseThrow())
                                .getByteBuffer();
                float[] got =
                        ((OnnxTensor) result.get(probes.get(name)[1]).orElseThrow())
                                .getFloatBuffer()
                                .array();
                List<?> ints = (List<?>) want.get("int_repr");
                float[] dequantized = floats(want.get("dequantized"));
                float[] fakeQuantized = floats(want.get("fake_quantized"));
                assertEquals(ints.size(), q.remaining(), name);
                assertEquals(ints.size(), got.length, name);
                int valueOneStep = 0;
                for (int i = 0; i < got.length; i++) {
                    byte b = q.get(i);
                    long onnxQ = unsigned ? b & 0xFF : b;
                    long torchQ = (Long) ints.get(i);
                    String at = name + "[" + i + "]";
                    if (onnxQ == torchQ) {
                        assertEquals(
                                Float.floatToIntBits(dequantized[i]),
                                Float.floatToIntBits(got[i]),
                                at + ": dequantize()");
                        assertEquals(
                                Float.floatToIntBits(fakeQuantized[i]),
                                Float.floatToIntBits(got[i]),
                                at + ": fake-quantize");
                    } else {
                        assertEquals(
                                1,
                                Math.abs(onnxQ - torchQ),
                                at + ": onnx " + onnxQ + ", torch " + torchQ);
                        valueOneStep++;
                    }
                }
                System.err.printf(
                        "OnnxExportTest: %s (%s): %d of %d elements one step from torch's%n",
                        name, want.get("tensor"), valueOneStep, got.length);
                oneStep += valueOneStep;
                elements += got.length;
            }
        }
        assertEquals(384 + 288 + 288 + 10, elements);
        assertTrue(
                oneStep * 100 <= elements, oneStep + " of " + elements + " elements one step away");
    }
}
