package io.qparams.export.formats;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.formats.Protobuf.Field;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of one record's QuantizeLinear/DequantizeLinear pair, as protobuf fields of the ONNX
 * graph ({@link OnnxExport} places them): the {@code y_scale} initializer (the record's float32
 * scales), the {@code y_zero_point} initializer (its zero points in the dtype's ONNX type), both
 * scalars per tensor and 1-D per channel, and the two nodes, with the attribute {@code axis} =
 * ch_axis per channel. Every name is the exported name followed by {@code /qparams/...}.
 */
final class QdqPair {
    private static final int ONNX_FLOAT = 1;
    private static final int ONNX_UINT8 = 2;
    private static final int ONNX_INT8 = 3;
    private static final int ONNX_UINT16 = 4;
    private static final int ONNX_INT16 = 5;
    private static final int ATTRIBUTE_INT = 2;

    private QdqPair() {}

    private static int onnxType(String dtype) {
        return switch (dtype) {
            case "uint8" -> ONNX_UINT8;
            case "int8" -> ONNX_INT8;
            case "uint16" -> ONNX_UINT16;
            default -> ONNX_INT16;
        };
    }

    /** The float32 y_scale initializer: a scalar, or 1-D of the channels. */
    static List<Field> scale(ExportEntry e) {
        QParamsRecord r = e.record();
        ByteBuffer b = ByteBuffer.allocate(4 * r.scale().length).order(ByteOrder.LITTLE_ENDIAN);
        for (float s : r.scale()) {
            b.putFloat(s);
        }
        return tensor(
                e.name() + "/qparams/scale",
                ONNX_FLOAT,
                r.perChannel() ? r.scale().length : -1,
                b.array());
    }

    /** The y_zero_point initializer in the dtype's ONNX type. */
    static List<Field> zeroPoint(ExportEntry e) throws ExportException {
        QParamsRecord r = e.record();
        String dtype = Grid.onnxDtype(e);
        int width = dtype.endsWith("16") ? 2 : 1;
        ByteBuffer b =
                ByteBuffer.allocate(width * r.zeroPoint().length).order(ByteOrder.LITTLE_ENDIAN);
        for (long z : r.zeroPoint()) {
            if (width == 1) {
                b.put((byte) z);
            } else {
                b.putShort((short) z);
            }
        }
        return tensor(
                e.name() + "/qparams/zero_point",
                onnxType(dtype),
                r.perChannel() ? r.zeroPoint().length : -1,
                b.array());
    }

    /** A TensorProto: dims (1), data_type (2), name (8), raw_data (9); length -1 for a scalar. */
    private static List<Field> tensor(String name, int type, int length, byte[] raw) {
        List<Field> t = new ArrayList<>();
        if (length >= 0) {
            t.add(Field.varint(1, length));
        }
        t.add(Field.varint(2, type));
        t.add(Field.string(8, name));
        t.add(Field.bytes(9, raw));
        return t;
    }

    /** QuantizeLinear(in) -> quantized, DequantizeLinear(quantized) -> out, as two node fields. */
    static List<Field> nodes(ExportEntry e, String in, String out) {
        String base = e.name() + "/qparams/";
        String quantized = base + "quantized";
        return List.of(
                Field.message(
                        1,
                        node(base + "QuantizeLinear", "QuantizeLinear", e, List.of(in, quantized))),
                Field.message(
                        1,
                        node(
                                base + "DequantizeLinear",
                                "DequantizeLinear",
                                e,
                                List.of(quantized, out))));
    }

    private static List<Field> node(String name, String op, ExportEntry e, List<String> inOut) {
        List<Field> n = new ArrayList<>();
        n.add(Field.string(1, inOut.get(0)));
        n.add(Field.string(1, e.name() + "/qparams/scale"));
        n.add(Field.string(1, e.name() + "/qparams/zero_point"));
        n.add(Field.string(2, inOut.get(1)));
        n.add(Field.string(3, name));
        n.add(Field.string(4, op));
        if (e.record().perChannel()) {
            n.add(
                    Field.message(
                            5,
                            List.of(
                                    Field.string(1, "axis"),
                                    Field.varint(3, e.record().chAxis()),
                                    Field.varint(20, ATTRIBUTE_INT))));
        }
        return n;
    }
}
