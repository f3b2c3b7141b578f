package io.qparams.export.formats;

import io.qparams.connectors.records.QParamsRecord;
import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.ExportFormat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * {@code torch}: a file {@code torch.load} reads, holding a state_dict of observer buffers: for
 * each tensor, {@code <module>.activation_post_process.min_val} and {@code .max_val} (float32;
 * 0-dim for a per-tensor observer, one element per channel for a per-channel one), which {@code
 * load_state_dict(strict=False)} puts into an eager-mode prepared model so that {@code
 * calculate_qparams} and {@code convert} give the record's scale and zero point. The module is the
 * exported name without a trailing {@code .output} ({@code features.3.output} -> {@code
 * features.3}), else the name itself ({@code --rename} to give module paths).
 *
 * <p>The file is torch's zip serialization (what {@code torch.save} writes since torch 1.6): an
 * uncompressed zip of {@code archive/data.pkl} (a protocol-2 pickle of an OrderedDict, with torch's
 * {@code _metadata} of observer versions, whose values are {@code torch._utils._rebuild_tensor_v2}
 * calls on persistent storage ids {@code ('storage', torch.FloatStorage, key, 'cpu', numel)}),
 * {@code archive/byteorder} ({@code little}), {@code archive/data/<key>} (each storage's
 * little-endian floats) and {@code archive/version} ({@code 3}). Only the pickle opcodes, globals
 * and layout torch's own weights-only loader accepts.
 */
public final class TorchExport implements ExportFormat {
    private static final String ARCHIVE = "archive/";

    /** torch's ObserverBase._version since torch 1.8 (buffers min_val/max_val, eps a buffer). */
    private static final int OBSERVER_VERSION = 3;

    @Override
    public String name() {
        return "torch";
    }

    /** The module path of an exported name: without a trailing ".output", else the name. */
    public static String module(String name) {
        return name.endsWith(".output")
                ? name.substring(0, name.length() - ".output".length())
                : name;
    }

    @Override
    public void write(List<ExportEntry> entries, Path target, PrintStream notes)
            throws IOException, ExportException {
        Map<String, float[]> stateDict = new LinkedHashMap<>();
        List<Boolean> zeroDim = new ArrayList<>();
        Map<String, String> moduleOf = new LinkedHashMap<>();
        for (ExportEntry e : entries) {
            Refusals.requireQParams(e);
            String module = module(e.name());
            if (module.isEmpty()) {
                throw new ExportException(
                        "tensor '" + e.tensor() + "': '" + e.name() + "' names no module");
            }
            String other = moduleOf.putIfAbsent(module, e.tensor());
            if (other != null) {
                throw new ExportException(
                        "tensors '"
                                + other
                                + "' and '"
                                + e.tensor()
                                + "' are both module '"
                                + module
                                + "' (--rename one of them)");
            }
            QParamsRecord r = e.record();
            stateDict.put(module + ".activation_post_process.min_val", r.minVal());
            zeroDim.add(!r.perChannel());
            stateDict.put(module + ".activation_post_process.max_val", r.maxVal());
            zeroDim.add(!r.perChannel());
        }
        // An OrderedDict with torch's _metadata, as Module.state_dict() returns: each observer's
        // version, 3 (without it, torch's per-channel observers take the keys for their version-2
        // names, min_vals/max_vals, and refuse the vectors).
        Pickle pickle = new Pickle();
        pickle.proto2();
        pickle.orderedDict();
        if (!stateDict.isEmpty()) {
            pickle.op(Pickle.MARK);
            int key = 0;
            for (Map.Entry<String, float[]> t : stateDict.entrySet()) {
                pickle.unicode(t.getKey());
                pickle.floatTensor(Integer.toString(key), t.getValue().length, zeroDim.get(key));
                key++;
            }
            pickle.op(Pickle.SETITEMS);
        }
        pickle.op(Pickle.EMPTY_DICT);
        pickle.unicode("_metadata");
        pickle.orderedDict();
        if (!moduleOf.isEmpty()) {
            pickle.op(Pickle.MARK);
            for (String module : moduleOf.keySet()) {
                pickle.unicode(module + ".activation_post_process");
                pickle.op(Pickle.EMPTY_DICT);
                pickle.unicode("version");
                pickle.binint(OBSERVER_VERSION);
                pickle.op(Pickle.SETITEM);
            }
            pickle.op(Pickle.SETITEMS);
        }
        pickle.op(Pickle.SETITEM);
        pickle.op(Pickle.BUILD);
        pickle.op(Pickle.STOP);
        try (OutputStream file = Files.newOutputStream(target);
                ZipOutputStream zip = new ZipOutputStream(file)) {
            stored(zip, ARCHIVE + "data.pkl", pickle.bytes());
            stored(zip, ARCHIVE + "byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            int key = 0;
            for (float[] values : stateDict.values()) {
                ByteBuffer b =
                        ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : values) {
                    b.putFloat(v);
                }
                stored(zip, ARCHIVE + "data/" + key++, b.array());
            }
            stored(zip, ARCHIVE + "version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** An uncompressed entry (torch reads records in place). */
    private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(bytes.length);
        entry.setCompressedSize(bytes.length);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        entry.setCrc(crc.getValue());
        entry.setTime(0);
        zip.putNextEntry(entry);
        zip.write(bytes);
        zip.closeEntry();
    }

    /** The few pickle opcodes (protocol 2) a state_dict of float tensors takes. */
    static final class Pickle {
        static final int MARK = '(';
        static final int STOP = '.';
        static final int EMPTY_DICT = '}';
        static final int EMPTY_TUPLE = ')';
        static final int SETITEMS = 'u';
        static final int SETITEM = 's';
        static final int BUILD = 'b';
        static final int TUPLE = 't';
        static final int REDUCE = 'R';
        static final int BINPERSID = 'Q';
        static final int BININT = 'J';
        static final int NEWFALSE = 0x89;
        static final int TUPLE1 = 0x85;

        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void proto2() {
            out.write(0x80);
            out.write(2);
        }

        void op(int opcode) {
            out.write(opcode);
        }

        /** collections.OrderedDict(), empty. */
        void orderedDict() {
            global("collections", "OrderedDict");
            op(EMPTY_TUPLE);
            op(REDUCE);
        }

        void global(String module, String name) {
            out.write('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        void unicode(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            out.write('X');
            int32(utf8.length);
            out.writeBytes(utf8);
        }

        void binint(int i) {
            out.write(BININT);
            int32(i);
        }

        private void int32(int i) {
            out.write(i);
            out.write(i >>> 8);
            out.write(i >>> 16);
            out.write(i >>> 24);
        }

        /**
         * torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()) of a
         * contiguous float32 storage: 0-dim (size (), stride ()) or 1-D of n elements.
         */
        void floatTensor(String key, int n, boolean zeroDim) {
            global("torch._utils", "_rebuild_tensor_v2");
            op(MARK);
            op(MARK);
            unicode("storage");
            global("torch", "FloatStorage");
            unicode(key);
            unicode("cpu");
            binint(n);
            op(TUPLE);
            op(BINPERSID);
            binint(0);
            if (zeroDim) {
                op(EMPTY_TUPLE);
                op(EMPTY_TUPLE);
            } else {
                binint(n);
                op(TUPLE1);
                binint(1);
                op(TUPLE1);
            }
            op(NEWFALSE);
            orderedDict();
            op(TUPLE);
            op(REDUCE);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
