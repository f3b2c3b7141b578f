package io.qparams.observers;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The serialized form of an {@link ObserverState}, as kept in Flink state and savepoints. A state
 * written once must restore forever: the first byte is the format version, and every version ever
 * written stays readable.
 *
 * <pre>
 * version 1: u8 version=1 | i64 batches | i32 n | n x f32 min_val (raw bits) | n x f32 max_val (raw bits)
 * </pre>
 */
public final class ObserverStateCodec {
    public static final int CURRENT_VERSION = 1;

    /** Far beyond any channel count; guards against allocating from a corrupt length. */
    static final int MAX_CHANNELS = 1 << 24;

    private ObserverStateCodec() {}

    public static void write(ObserverState state, DataOutput out) throws IOException {
        out.writeByte(CURRENT_VERSION);
        out.writeLong(state.batches);
        out.writeInt(state.minVal.length);
        for (float v : state.minVal) {
            out.writeInt(Float.floatToRawIntBits(v));
        }
        for (float v : state.maxVal) {
            out.writeInt(Float.floatToRawIntBits(v));
        }
    }

    public static ObserverState read(DataInput in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != 1) {
            throw new IOException(
                    "unknown observer state version "
                            + version
                            + " (this build reads up to "
                            + CURRENT_VERSION
                            + ")");
        }
        long batches = in.readLong();
        int n = in.readInt();
        if (n < 0 || n > MAX_CHANNELS) {
            throw new IOException("corrupt observer state: " + n + " channels");
        }
        float[] minVal = new float[n];
        float[] maxVal = new float[n];
        for (int i = 0; i < n; i++) {
            minVal[i] = Float.intBitsToFloat(in.readInt());
        }
        for (int i = 0; i < n; i++) {
            maxVal[i] = Float.intBitsToFloat(in.readInt());
        }
        return new ObserverState(minVal, maxVal, batches);
    }

    /** Size in bytes of the current format for a state of n channels. */
    public static int serializedSize(int n) {
        return 1 + 8 + 4 + 8 * n;
    }
}
