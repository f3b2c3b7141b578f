package io.qparams.export.formats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime's calibration.flatbuffers: a FlatBuffer of its schema (trt_cal_table.fbs in
 * onnxruntime/python/tools/quantization; {@code docs/schema/trt_cal_table.fbs} here, with the root
 * type added for {@code flatc}):
 *
 * <pre>
 * namespace CalTableFlatBuffers;
 * table KeyValue { key:string (key); value:string; }
 * table TrtTable { dict:[KeyValue]; }
 * </pre>
 *
 * <p>Laid out front to back (FlatBuffers fixes the encoding, not the order of the parts): the root
 * offset, the two vtables, the TrtTable, the vector of KeyValue offsets, the KeyValue tables, then
 * the strings; every offset a reference forward, everything 4-byte aligned, little-endian. The
 * entries are sorted by key, as a {@code (key)} field's vector is for lookups.
 */
final class TrtTableFlatBuffer {
    private TrtTableFlatBuffer() {}

    static byte[] encode(List<Map.Entry<String, String>> sortedEntries) {
        int n = sortedEntries.size();
        byte[][] keys = new byte[n][];
        byte[][] values = new byte[n][];
        int stringsSize = 0;
        for (int i = 0; i < n; i++) {
            keys[i] = sortedEntries.get(i).getKey().getBytes(StandardCharsets.UTF_8);
            values[i] = sortedEntries.get(i).getValue().getBytes(StandardCharsets.UTF_8);
            stringsSize += stringSize(keys[i]) + stringSize(values[i]);
        }
        final int trtVtable =
                4; // u16 vtable size 6, u16 table size 8, u16 field dict at 4 (+2 pad)
        final int kvVtable = 12; // u16 8, u16 12, u16 key at 4, u16 value at 8
        final int table = 20; // soffset, uoffset dict
        final int vector = 28; // u32 length, n x uoffset
        final int tables = vector + 4 + 4 * n; // n x (soffset, uoffset key, uoffset value)
        int strings = tables + 12 * n;
        ByteBuffer b = ByteBuffer.allocate(strings + stringsSize).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, table);
        b.putShort(trtVtable, (short) 6).putShort(trtVtable + 2, (short) 8);
        b.putShort(trtVtable + 4, (short) 4);
        b.putShort(kvVtable, (short) 8).putShort(kvVtable + 2, (short) 12);
        b.putShort(kvVtable + 4, (short) 4).putShort(kvVtable + 6, (short) 8);
        b.putInt(table, table - trtVtable); // vtable = table - soffset
        b.putInt(table + 4, vector - (table + 4));
        b.putInt(vector, n);
        int at = strings;
        for (int i = 0; i < n; i++) {
            int slot = vector + 4 + 4 * i;
            int kv = tables + 12 * i;
            b.putInt(slot, kv - slot);
            b.putInt(kv, kv - kvVtable);
            b.putInt(kv + 4, at - (kv + 4));
            at = putString(b, at, keys[i]);
            b.putInt(kv + 8, at - (kv + 8));
            at = putString(b, at, values[i]);
        }
        return b.array();
    }

    /** u32 length, the bytes, a NUL, padding to 4. */
    private static int stringSize(byte[] s) {
        return 4 + ((s.length + 1 + 3) & ~3);
    }

    private static int putString(ByteBuffer b, int at, byte[] s) {
        b.putInt(at, s.length);
        b.put(at + 4, s);
        return at + stringSize(s);
    }
}
