package io.qparams.job.records;

import io.qparams.connectors.records.StepHeaders;
import io.qparams.observers.ValueCounts;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The serialized form of a {@link PendingStep}, as kept in Flink state and savepoints. The first
 * byte is the format version; every version ever written stays readable.
 *
 * <pre>
 * version 1: u8 version=1 | i64 step | i32 rule | i32 world_size | i64 deadline
 *            | ceil(world_size / 64) x i64 arrived bits | i32 ranks
 *            | u8 flags (1: has values, 2: per-channel, 4: refused)
 *            | [has values: i32 n | n x f32 min (raw bits) | n x f32 max (raw bits)]
 *            | [refused: UTF reason] | UTF source topic | i32 source partition | i64 source offset
 * version 2: as version 1, with flag 8 (has counts) and, after the max vector,
 *            [has counts: i64 values | i64 non-finite | i64 zeros]
 * </pre>
 *
 * A version 1 step (saved before the records counted values) reads back without counts: its record
 * then has no {@code values}, {@code nonfinite} and {@code zeros}.
 */
public final class PendingStepCodec {
    public static final int CURRENT_VERSION = 2;

    private static final int HAS_VALUES = 1;
    private static final int PER_CHANNEL = 2;
    private static final int REFUSED = 4;
    private static final int HAS_COUNTS = 8;

    /** Far beyond any channel count; guards against allocating from a corrupt length. */
    static final int MAX_CHANNELS = 1 << 24;

    private PendingStepCodec() {}

    public static void write(PendingStep p, DataOutput out) throws IOException {
        out.writeByte(CURRENT_VERSION);
        out.writeLong(p.step);
        out.writeInt(p.rule);
        out.writeInt(p.worldSize);
        out.writeLong(p.deadline);
        for (long bits : p.arrived) {
            out.writeLong(bits);
        }
        out.writeInt(p.ranks);
        int flags =
                (p.min != null ? HAS_VALUES : 0)
                        | (p.perChannel ? PER_CHANNEL : 0)
                        | (p.refusal != null ? REFUSED : 0)
                        | (p.counts != null ? HAS_COUNTS : 0);
        out.writeByte(flags);
        if (p.min != null) {
            out.writeInt(p.min.length);
            for (float v : p.min) {
                out.writeInt(Float.floatToRawIntBits(v));
            }
            for (float v : p.max) {
                out.writeInt(Float.floatToRawIntBits(v));
            }
        }
        if (p.counts != null) {
            out.writeLong(p.counts.values());
            out.writeLong(p.counts.nonFinite());
            out.writeLong(p.counts.zeros());
        }
        if (p.refusal != null) {
            out.writeUTF(p.refusal);
        }
        out.writeUTF(p.sourceTopic == null ? "" : p.sourceTopic);
        out.writeInt(p.sourcePartition);
        out.writeLong(p.sourceOffset);
    }

    public static PendingStep read(DataInput in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != 1 && version != 2) {
            throw new IOException(
                    "unknown pending step version "
                            + version
                            + " (this build reads up to "
                            + CURRENT_VERSION
                            + ")");
        }
        long step = in.readLong();
        int rule = in.readInt();
        int worldSize = in.readInt();
        if (worldSize < 1 || worldSize > StepHeaders.MAX_WORLD_SIZE) {
            throw new IOException("corrupt pending step: world size " + worldSize);
        }
        long deadline = in.readLong();
        long[] arrived = new long[(worldSize + 63) / 64];
        for (int i = 0; i < arrived.length; i++) {
            arrived[i] = in.readLong();
        }
        PendingStep p = new PendingStep(step, rule, worldSize, deadline, arrived);
        p.ranks = in.readInt();
        int flags = in.readUnsignedByte();
        p.perChannel = (flags & PER_CHANNEL) != 0;
        if ((flags & HAS_VALUES) != 0) {
            int n = in.readInt();
            if (n < 1 || n > MAX_CHANNELS) {
                throw new IOException("corrupt pending step: " + n + " channels");
            }
            p.min = new float[n];
            p.max = new float[n];
            for (int i = 0; i < n; i++) {
                p.min[i] = Float.intBitsToFloat(in.readInt());
            }
            for (int i = 0; i < n; i++) {
                p.max[i] = Float.intBitsToFloat(in.readInt());
            }
        }
        p.counts = null;
        if (version >= 2 && (flags & HAS_COUNTS) != 0) {
            try {
                p.counts = new ValueCounts(in.readLong(), in.readLong(), in.readLong());
            } catch (IllegalArgumentException e) {
                throw new IOException("corrupt pending step: " + e.getMessage());
            }
        }
        if ((flags & REFUSED) != 0) {
            p.refusal = in.readUTF();
        }
        String topic = in.readUTF();
        p.sourceTopic = topic.isEmpty() ? null : topic;
        p.sourcePartition = in.readInt();
        p.sourceOffset = in.readLong();
        return p;
    }
}
