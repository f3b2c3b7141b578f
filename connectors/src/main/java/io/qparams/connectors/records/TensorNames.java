package io.qparams.connectors.records;

import io.qparams.connectors.Reasons;
import io.qparams.observers.InvalidBatchException;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * What a tensor name (a record's key) may be: every name becomes a key of the job's state, so a
 * stranger who can write to the input topic must not be able to grow it with arbitrary bytes. A
 * name is 1 to {@link #MAX_BYTES} bytes of valid UTF-8 without control characters (CONTRACT section
 * 1); anything else is a dead letter with the reason.
 */
public final class TensorNames {
    /** The longest name, in UTF-8 bytes: far above any module path, far below a payload. */
    public static final int MAX_BYTES = 512;

    public static final String NO_KEY = "record has no key: the key must be the tensor name";

    private TensorNames() {}

    /**
     * The tensor name a record key holds.
     *
     * @throws InvalidBatchException when there is none, or it is not a name qparams takes
     */
    public static String of(byte[] key) throws InvalidBatchException {
        if (key == null || key.length == 0) {
            throw new InvalidBatchException(NO_KEY);
        }
        if (key.length > MAX_BYTES) {
            throw new InvalidBatchException(
                    "tensor name of "
                            + key.length
                            + " bytes: at most "
                            + MAX_BYTES
                            + " bytes of UTF-8 are taken");
        }
        if (printableAscii(key)) { // the usual name, decoded without a decoder
            return new String(key, StandardCharsets.US_ASCII);
        }
        String name;
        try {
            name =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(key))
                            .toString();
        } catch (CharacterCodingException e) {
            throw new InvalidBatchException("tensor name is not valid UTF-8");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                throw new InvalidBatchException(
                        "tensor name '"
                                + Reasons.excerpt(name)
                                + "' holds a control character (U+"
                                + String.format("%04X", (int) c)
                                + ") at character "
                                + i);
            }
        }
        return name;
    }

    private static boolean printableAscii(byte[] key) {
        for (byte b : key) {
            if (b < 0x20 || b == 0x7f) { // bytes above 0x7f are negative: not ASCII
                return false;
            }
        }
        return true;
    }
}
