package io.qparams.export.formats;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.qparams.connectors.records.JsonValues;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.Exporter;
import io.qparams.export.LatestRecords;
import io.qparams.export.TensorSelection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The onnx export run by ONNX Runtime (its Java API, from Maven Central): the goldens
 * (src/test/resources/onnx, generate_onnx_goldens.py with Debian's torch) are a CNN made by
 * torch.onnx.export, torch observers' records of four of its values (the graph input, a per-channel
 * conv output, the two outputs) and what torch computes with a quantize-dequantize at each. The
 * exported model's outputs are compared element for element with torch's quantized integers
 * (int_repr) and dequantized floats.
 *
 * <p>Where the libraries' rounding differs (ONNX's QuantizeLinear divides by the scale, torch's
 * quantize_per_tensor multiplies by the float reciprocal of the scale), an element can land one
 * step away: the test counts those, asserts each is exactly one step and that they are rare, and
 * every other element equals torch's integer and its dequantized float bit for bit.
 */
class OnnxExportTest {
    private static final Path GOLDENS = Path.of("src/test/resources/onnx");

    @TempDir Path dir;

    private List<ExportEntry> entries() throws Exception {
        return TensorSelection.of(List.of(), GOLDENS.resolve("rename.txt"))
                .select(LatestRecords.fromFile(GOLDENS.resolve("records.jsonl")), System.err);
    }

    private static float[] floats(List<?> hexes) {
        float[] out = new float[hexes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat(Integer.parseUnsignedInt((String) hexes.get(i), 16));
        }
        return out;
    }

    private static long[] shape(List<?> dims) {
        return dims.stream().mapToLong(d -> (Long) d).toArray();
    }

    @Test
    @SuppressWarnings("unchecked")
    void onnxRuntimeQuantizesAsTorchDoes() throws Exception {
        Path out = dir.resolve("model.qdq.onnx");
        Exporter.export(new OnnxExport(GOLDENS.resolve("model.onnx")), entries(), out, System.err);
        Map<String, Object> expected =
                (Map<String, Object>)
                        JsonValues.parse(Files.readAllBytes(GOLDENS.resolve("expected.json")));
        Map<String, Object> input = (Map<String, Object>) expected.get("input");

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int oneStep = 0;
        int elements = 0;
        // Graph optimizations off: the QuantizeLinear/DequantizeLinear pairs run as written (the
        // reference semantics torch's quantize/dequantize are compared with); ORT's default level
        // fuses them with the conv into QLinearConv, an integer kernel (docs/export.md).
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        try (options;
                OrtSession session = env.createSession(out.toString(), options);
                OnnxTensor x =
                        OnnxTensor.createTensor(
                                env,
                                FloatBuffer.wrap(floats((List<?>) input.get("hex"))),
                                shape((List<?>) input.get("shape")));
                OrtSession.Result result = session.run(Map.of("input", x))) {
            for (String name : List.of("relu_out", "fc_out")) {
                Map<String, Object> want = (Map<String, Object>) expected.get(name);
                float[] got =
                        ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer().array();
                List<?> ints = (List<?>) want.get("int_repr");
                float[] dequantized = floats((List<?>) want.get("dequantized"));
                double scale = ((Number) want.get("scale")).doubleValue();
                long zeroPoint = (Long) want.get("zero_point");
                assertEquals(ints.size(), got.length, name);
                for (int i = 0; i < got.length; i++) {
                    // DequantizeLinear gives (q - zp) * scale exactly: q comes back by rounding.
                    long q = Math.round(got[i] / scale) + zeroPoint;
                    long torchQ = (Long) ints.get(i);
                    if (q == torchQ) {
                        assertEquals(
                                Float.floatToIntBits(dequantized[i]),
                                Float.floatToIntBits(got[i]),
                                name + "[" + i + "]");
                    } else {
                        assertEquals(
                                1,
                                Math.abs(q - torchQ),
                                name + "[" + i + "]: onnx " + q + ", torch " + torchQ);
                        oneStep++;
                    }
                    elements++;
                }
            }
        }
        System.err.printf(
                "OnnxExportTest: %d of %d output elements one step from torch's%n",
                oneStep, elements);
        assertTrue(elements > 250, "elements: " + elements);
        assertTrue(
                oneStep * 100 <= elements, oneStep + " of " + elements + " elements one step away");
    }

    @Test
    void theModelHasAPairPerValueAndAnInitializerPair() throws Exception {
        Path out = dir.resolve("model.qdq.onnx");
        Exporter.export(new OnnxExport(GOLDENS.resolve("model.onnx")), entries(), out, System.err);
        List<Protobuf.Field> graph =
                Protobuf.read(
                        Protobuf.read(Files.readAllBytes(out)).stream()
                                .filter(f -> f.number() == 7)
                                .findFirst()
                                .orElseThrow()
                                .bytes());
        int quantize = 0;
        int dequantize = 0;
        int qparamsInitializers = 0;
        for (Protobuf.Field f : graph) {
            if (f.number() == 1) {
                String op =
                        Protobuf.read(f.bytes()).stream()
                                .filter(g -> g.number() == 4)
                                .findFirst()
                                .orElseThrow()
                                .string();
                quantize += op.equals("QuantizeLinear") ? 1 : 0;
                dequantize += op.equals("DequantizeLinear") ? 1 : 0;
            } else if (f.number() == 5
                    && new String(f.bytes(), java.nio.charset.StandardCharsets.ISO_8859_1)
                            .contains("/qparams/")) {
                qparamsInitializers++;
            }
        }
        assertEquals(4, quantize);
        assertEquals(4, dequantize);
        assertEquals(8, qparamsInitializers);
    }

    @Test
    void refusals() throws Exception {
        assertThrows(ExportException.class, () -> new OnnxExport(null));
        ExportEntry e = entries().get(0);
        ExportEntry unknown = new ExportEntry("no/such/value", e.record(), e.json());
        ExportException refused =
                assertThrows(
                        ExportException.class,
                        () ->
                                Exporter.export(
                                        new OnnxExport(GOLDENS.resolve("model.onnx")),
                                        List.of(unknown),
                                        dir.resolve("x.onnx"),
                                        System.err));
        assertTrue(
                refused.getMessage().contains("the model has no value 'no/such/value'"),
                refused.getMessage());
        assertTrue(Files.notExists(dir.resolve("x.onnx")));
    }
}
