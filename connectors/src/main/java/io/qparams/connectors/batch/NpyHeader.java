package io.qparams.connectors.batch;

import io.qparams.connectors.Reasons;
import io.qparams.observers.InvalidBatchException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The preamble of an NPY record, checked as numpy's {@code read_array_header_*} checks it: magic,
 * version (1.0: uint16 header length, latin-1; 2.0: uint32, latin-1; 3.0: uint32, utf-8), and a
 * header dict with exactly the keys 'descr', 'fortran_order' and 'shape'.
 */
final class NpyHeader {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** numpy's own limit (NPY_MAXDIMS is 32 in numpy 1.x, 64 in 2.x). */
    static final int MAX_DIMS = 64;

    final NpyDtype dtype;
    final ByteOrder order;
    final boolean fortranOrder;
    final long[] shape;

    /** Index of the first data byte in the record. */
    final int dataOffset;

    private NpyHeader(NpyDtype.Descr descr, boolean fortranOrder, long[] shape, int dataOffset) {
        this.dtype = descr.dtype;
        this.order = descr.order;
        this.fortranOrder = fortranOrder;
        this.shape = shape;
        this.dataOffset = dataOffset;
    }

    /**
     * The headers of recent records, by their exact bytes: a producer sends the same header with
     * every batch of a tensor, and parsing the Python literal costs more than reducing a small
     * batch. A header's meaning depends only on its bytes (magic to the end of the padding), so a
     * record whose leading bytes equal a cached header's has that header. One per decoder: not
     * thread-safe.
     */
    static final class Cache {
        static final int ENTRIES = 64;
        private final byte[][] bytes = new byte[ENTRIES][];
        private final int[] hashes = new int[ENTRIES];
        private final NpyHeader[] headers = new NpyHeader[ENTRIES];
        private int next;

        NpyHeader parse(byte[] value) throws InvalidBatchException {
            int end = claimedDataOffset(value);
            int hash = end < 0 ? 0 : hash(value, end);
            if (end >= 0) {
                for (int i = 0; i < ENTRIES; i++) {
                    byte[] b = bytes[i];
                    if (b != null
                            && hashes[i] == hash
                            && b.length == end
                            && Arrays.equals(value, 0, end, b, 0, end)) {
                        return headers[i];
                    }
                }
            }
            NpyHeader header = NpyHeader.parse(value);
            if (header.dataOffset == end) {
                bytes[next] = Arrays.copyOf(value, end);
                hashes[next] = hash;
                headers[next] = header;
                next = (next + 1) % ENTRIES;
            }
            return header;
        }

        private static int hash(byte[] value, int end) {
            int h = 1;
            for (int i = 0; i < end; i++) {
                h = 31 * h + value[i];
            }
            return h;
        }

        /**
         * Where the data would start by the version and header length fields, or -1 when they are
         * missing or out of range (the full parse then says why).
         */
        private static int claimedDataOffset(byte[] value) {
            if (value.length < 12 || value[7] != 0) {
                return -1;
            }
            int major = value[6];
            long length;
            if (major == 1) {
                length = (value[8] & 0xff) | (value[9] & 0xff) << 8;
                length += 10;
            } else if (major == 2 || major == 3) {
                length =
                        (value[8] & 0xffL)
                                | (value[9] & 0xffL) << 8
                                | (value[10] & 0xffL) << 16
                                | (value[11] & 0xffL) << 24;
                length += 12;
            } else {
                return -1;
            }
            return length <= value.length ? (int) length : -1;
        }
    }

    static boolean startsWithMagicByte(byte[] value) {
        return value.length > 0 && value[0] == MAGIC[0];
    }

    static NpyHeader parse(byte[] value) throws InvalidBatchException {
        for (int i = 0; i < MAGIC.length; i++) {
            if (i >= value.length) {
                throw new InvalidBatchException(
                        "truncated NPY magic: record has only " + value.length + " bytes");
            }
            if (value[i] != MAGIC[i]) {
                throw new InvalidBatchException("not an NPY record: magic is not \\x93NUMPY");
            }
        }
        if (value.length < 8) {
            throw new InvalidBatchException(
                    "truncated NPY record: no format version after the magic");
        }
        int major = value[6] & 0xff;
        int minor = value[7] & 0xff;
        if (minor != 0 || major < 1 || major > 3) {
            throw new InvalidBatchException(
                    "unsupported NPY format version "
                            + major
                            + "."
                            + minor
                            + " (expected 1.0, 2.0 or 3.0)");
        }
        int lengthBytes = major == 1 ? 2 : 4;
        int headerStart = 8 + lengthBytes;
        if (value.length < headerStart) {
            throw new InvalidBatchException(
                    "truncated NPY record: header length field needs "
                            + lengthBytes
                            + " bytes, record has "
                            + value.length);
        }
        ByteBuffer le = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = major == 1 ? le.getChar(8) : Integer.toUnsignedLong(le.getInt(8));
        if (headerLength > value.length - headerStart) {
            throw new InvalidBatchException(
                    "truncated NPY header: it claims "
                            + headerLength
                            + " bytes but only "
                            + (value.length - headerStart)
                            + " follow");
        }
        String text = headerText(value, headerStart, (int) headerLength, major);
        int dataOffset = headerStart + (int) headerLength;
        Object literal = PyLiteral.parse(text);
        if (!(literal instanceof Map)) {
            throw new InvalidBatchException("NPY header is not a dict");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> dict = (Map<String, Object>) literal;
        for (String key : dict.keySet()) {
            if (!key.equals("descr") && !key.equals("fortran_order") && !key.equals("shape")) {
                throw new InvalidBatchException(
                        "NPY header has unexpected key '"
                                + Reasons.excerpt(key)
                                + "' (expected 'descr', 'fortran_order' and 'shape')");
            }
        }
        return new NpyHeader(
                descr(require(dict, "descr")),
                fortranOrder(require(dict, "fortran_order")),
                shape(require(dict, "shape")),
                dataOffset);
    }

    private static String headerText(byte[] value, int start, int length, int major)
            throws InvalidBatchException {
        if (major < 3) {
            return new String(value, start, length, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(value, start, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new InvalidBatchException("NPY 3.0 header is not valid UTF-8");
        }
    }

    private static Object require(Map<String, Object> dict, String key)
            throws InvalidBatchException {
        if (!dict.containsKey(key)) {
            throw new InvalidBatchException("NPY header lacks '" + key + "'");
        }
        return dict.get(key);
    }

    private static NpyDtype.Descr descr(Object descr) throws InvalidBatchException {
        if (descr instanceof List) {
            throw new InvalidBatchException(
                    "NPY structured dtypes are not supported ('descr' is a list of fields)");
        }
        if (!(descr instanceof String text)) {
            throw new InvalidBatchException(
                    "NPY header 'descr' must be a string, got " + repr(descr));
        }
        return NpyDtype.parse(text);
    }

    private static boolean fortranOrder(Object fortranOrder) throws InvalidBatchException {
        if (!(fortranOrder instanceof Boolean fortran)) {
            throw new InvalidBatchException(
                    "NPY header 'fortran_order' must be True or False, got " + repr(fortranOrder));
        }
        return fortran;
    }

    private static long[] shape(Object shape) throws InvalidBatchException {
        if (!(shape instanceof PyLiteral.Tuple dims)) {
            throw new InvalidBatchException(
                    "NPY header 'shape' must be a tuple of non-negative integers, got "
                            + repr(shape));
        }
        if (dims.size() > MAX_DIMS) {
            throw new InvalidBatchException(
                    "NPY shape has " + dims.size() + " dimensions (at most " + MAX_DIMS + ")");
        }
        long[] result = new long[dims.size()];
        for (int i = 0; i < result.length; i++) {
            if (!(dims.get(i) instanceof Long dim) || dim < 0) {
                throw new InvalidBatchException(
                        "NPY header 'shape' must be a tuple of non-negative integers, got "
                                + repr(shape));
            }
            result[i] = dim;
        }
        return result;
    }

    /** A short rendering of a parsed value for error messages. */
    private static String repr(Object value) {
        String s =
                value == null
                        ? "None"
                        : value instanceof String ? "'" + value + "'" : value.toString();
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    static String formatShape(long[] shape) {
        String dims = Arrays.toString(shape);
        return "(" + dims.substring(1, dims.length() - 1) + (shape.length == 1 ? ",)" : ")");
    }
}
