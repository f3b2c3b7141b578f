package io.qparams.observers;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ObserverStateCodecTest {

    @Test
    void roundTripsEveryBitIncludingNanPayloadsAndSignedZeros() throws IOException {
        ObserverState state =
                new ObserverState(
                        new float[] {
                            Float.intBitsToFloat(0x7fc00001),
                            -0.0f,
                            Float.MIN_VALUE,
                            Float.NEGATIVE_INFINITY
                        },
                        new float[] {Float.POSITIVE_INFINITY, 0.0f, 3.5f, -1e-40f},
                        42);
        ObserverState back = decode(encode(state));
        assertEquals(state, back);
        assertEquals(ObserverStateCodec.serializedSize(4), encode(state).length);
    }

    /** Version 1 bytes as first written: must restore forever. */
    @Test
    void readsTheVersionOneFormat() throws IOException {
        byte[] v1 =
                HexFormat.of()
                        .parseHex("01" + "0000000000000007" + "00000001" + "bfc00000" + "40200000");
        ObserverState state = decode(v1);
        assertEquals(7, state.batches());
        assertEquals(-1.5f, state.minVal(0));
        assertEquals(2.5f, state.maxVal(0));
    }

    @Test
    void refusesUnknownVersionsAndCorruptLengths() {
        assertThrows(IOException.class, () -> decode(HexFormat.of().parseHex("02")));
        assertThrows(
                IOException.class,
                () -> decode(HexFormat.of().parseHex("01" + "0000000000000000" + "7fffffff")));
    }

    private static byte[] encode(ObserverState state) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ObserverStateCodec.write(state, new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    private static ObserverState decode(byte[] bytes) throws IOException {
        return ObserverStateCodec.read(new DataInputStream(new ByteArrayInputStream(bytes)));
    }
}
