package io.qparams.export.formats;

import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.ExportFormat;
import io.qparams.export.formats.Protobuf.Field;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code onnx}: the model of {@code --model IN.onnx} with a QuantizeLinear/DequantizeLinear pair on
 * every value that has qparams (the exported name is the ONNX value name: {@code --rename} maps
 * tensor names to them). The pair's {@code y_scale} and {@code y_zero_point} are new initializers
 * holding the record's exact float32 scale and its zero point in the dtype's ONNX type (uint8 for
 * quint8, int8 for qint8): scalars for a per-tensor record, 1-D with the node attribute {@code
 * axis} = ch_axis for a per-channel one.
 *
 * <p>A value a node produces is renamed at its producer ({@code X} becomes {@code
 * X/qparams/float}), the pair follows that node and its DequantizeLinear gives {@code X} again, so
 * every consumer and a graph output of that name see the dequantized value unchanged in name. A
 * graph input or initializer keeps its name; the pair comes first and its consumers are rewired to
 * {@code X/qparams/dequantized}. Everything else in the model is copied byte for byte ({@link
 * Protobuf}).
 *
 * <p>Refused, naming the tensor: a value the model does not have; float zero points
 * (per_channel_affine_float_qparams); a quant range other than the dtype's full range (ONNX clamps
 * to the type's); dtypes other than quint8/qint8/uint8/int8 (and int16/uint16 before opset 21);
 * per-channel records before opset 13 (QuantizeLinear's axis).
 */
public final class OnnxExport implements ExportFormat {
    private final Path model;

    public OnnxExport(Path model) throws ExportException {
        if (model == null) {
            throw new ExportException(
                    "--format onnx needs --model IN.onnx, the model to insert the pairs in");
        }
        this.model = model;
    }

    @Override
    public String name() {
        return "onnx";
    }

    @Override
    public void write(List<ExportEntry> entries, Path target, PrintStream notes)
            throws IOException, ExportException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(model);
        } catch (NoSuchFileException e) {
            throw new ExportException("--model: no such file: " + model);
        }
        List<Field> modelFields;
        List<Field> graph;
        try {
            modelFields = Protobuf.read(bytes);
            Field graphField =
                    modelFields.stream().filter(f -> f.number() == 7).findFirst().orElse(null);
            if (graphField == null) {
                throw new IOException("no graph");
            }
            graph = Protobuf.read(graphField.bytes());
        } catch (IOException e) {
            throw new ExportException(
                    "--model " + model + ": not an ONNX model (" + e.getMessage() + ")");
        }
        long opset = defaultOpset(modelFields);

        // The graph's nodes (field 1) with their inputs (1) and outputs (2); inputs (11) and
        // initializers (5) by name.
        List<List<Field>> nodes = new ArrayList<>();
        Map<String, Integer> producer = new HashMap<>();
        Set<String> sources = new HashSet<>();
        for (Field f : graph) {
            if (f.number() == 1) {
                List<Field> node = Protobuf.read(f.bytes());
                for (Field g : node) {
                    if (g.number() == 2) {
                        producer.put(g.string(), nodes.size());
                    }
                }
                nodes.add(node);
            } else if (f.number() == 11) {
                sources.add(stringField(Protobuf.read(f.bytes()), 1));
            } else if (f.number() == 5) {
                sources.add(stringField(Protobuf.read(f.bytes()), 8));
            }
        }

        Map<String, ExportEntry> byValue = new LinkedHashMap<>();
        for (ExportEntry e : entries) {
            check(e, opset);
            if (!producer.containsKey(e.name()) && !sources.contains(e.name())) {
                throw new ExportException(
                        "tensor '"
                                + e.tensor()
                                + "': the model has no value '"
                                + e.name()
                                + "' (--rename maps tensor names to the model's value names)");
            }
            byValue.put(e.name(), e);
        }

        List<Field> newGraph = new ArrayList<>();
        List<Field> initializers = new ArrayList<>();
        Map<String, String> rewire =
                new HashMap<>(); // graph input/initializer -> its dequantized name
        List<Field> firstNodes = new ArrayList<>();
        for (ExportEntry e : byValue.values()) {
            initializers.add(Field.message(5, QdqPair.scale(e)));
            initializers.add(Field.message(5, QdqPair.zeroPoint(e)));
            if (!producer.containsKey(e.name())) {
                String dequantized = e.name() + "/qparams/dequantized";
                rewire.put(e.name(), dequantized);
                firstNodes.addAll(QdqPair.nodes(e, e.name(), dequantized));
            }
        }
        int nodeIndex = 0;
        boolean nodesStarted = false;
        for (Field f : graph) {
            if (f.number() != 1) {
                newGraph.add(f);
                continue;
            }
            if (!nodesStarted) {
                newGraph.addAll(firstNodes);
                nodesStarted = true;
            }
            List<Field> node = nodes.get(nodeIndex++);
            List<Field> edited = new ArrayList<>();
            List<ExportEntry> produced = new ArrayList<>();
            for (Field g : node) {
                if (g.number() == 1 && rewire.containsKey(g.string())) {
                    edited.add(Field.string(1, rewire.get(g.string())));
                } else if (g.number() == 2 && byValue.containsKey(g.string())) {
                    edited.add(Field.string(2, g.string() + "/qparams/float"));
                    produced.add(byValue.get(g.string()));
                } else {
                    edited.add(g);
                }
            }
            newGraph.add(Field.message(1, edited));
            for (ExportEntry e : produced) {
                newGraph.addAll(QdqPair.nodes(e, e.name() + "/qparams/float", e.name()));
            }
        }
        if (!nodesStarted) {
            newGraph.addAll(firstNodes);
        }
        newGraph.addAll(initializers);

        List<Field> newModel = new ArrayList<>();
        for (Field f : modelFields) {
            newModel.add(f.number() == 7 ? Field.message(7, newGraph) : f);
        }
        Files.write(target, Protobuf.write(newModel));
    }

    private static long defaultOpset(List<Field> modelFields) throws IOException {
        for (Field f : modelFields) {
            if (f.number() == 8) {
                List<Field> opset = Protobuf.read(f.bytes());
                String domain = stringField(opset, 1);
                if (domain == null || domain.isEmpty() || domain.equals("ai.onnx")) {
                    for (Field g : opset) {
                        if (g.number() == 2) {
                            return g.value();
                        }
                    }
                }
            }
        }
        return 1;
    }

    private static String stringField(List<Field> fields, int number) {
        for (Field f : fields) {
            if (f.number() == number) {
                return f.string();
            }
        }
        return null;
    }

    private void check(ExportEntry e, long opset) throws ExportException {
        Refusals.requireQParams(e);
        Refusals.requireIntegerZeroPoints(e, name());
        Refusals.requireFinite(e, e.record().scale(), "scale");
        String dtype = Grid.onnxDtype(e);
        boolean wide = dtype.equals("int16") || dtype.equals("uint16");
        if (!(dtype.equals("uint8") || dtype.equals("int8") || (wide && opset >= 21))) {
            throw new ExportException(
                    "tensor '"
                            + e.tensor()
                            + "': dtype "
                            + e.record().dtype()
                            + " has no QuantizeLinear output type at the model's opset "
                            + opset
                            + (wide ? " (int16/uint16 need opset 21)" : ""));
        }
        Grid.requireFullRange(e, name());
        if (e.record().perChannel() && opset < 13) {
            throw new ExportException(
                    "tensor '"
                            + e.tensor()
                            + "': a per-channel QuantizeLinear (axis) needs opset 13,"
                            + " the model has "
                            + opset);
        }
    }
}
