package io.qparams.job.records;

import io.qparams.connectors.kafka.KafkaInput;
import io.qparams.connectors.records.StepHeaders;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.ValueCounts;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pending step's stored form: what this build writes reads back equal, counts included, and a
 * version 1 step (what savepoints taken before the counts hold) still reads, without counts.
 */
class PendingStepCodecTest {
    private static PendingStep step(BatchMinMax... shards) {
        PendingStep p = new PendingStep(42, 1, 4, 1_000);
        int rank = 0;
        for (BatchMinMax shard : shards) {
            KafkaInput source =
                    new KafkaInput(new byte[] {'t'}, null, null, "activations", 3, 10 + rank);
            p.add(TensorEvent.shard("t", 1, shard, new StepHeaders.Step(42, 4, rank++), source));
        }
        return p;
    }

    private static byte[] write(PendingStep p) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PendingStepCodec.write(p, new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    private static PendingStep read(byte[] bytes) throws IOException {
        return PendingStepCodec.read(new DataInputStream(new ByteArrayInputStream(bytes)));
    }

    @Test
    void aStepWithCountsReadsBackEqual() throws IOException {
        PendingStep p =
                step(
                        BatchMinMax.perChannel(new float[] {-1, 0}, new float[] {1, 2})
                                .withCounts(new ValueCounts(10, 2, 3)),
                        null,
                        BatchMinMax.perChannel(new float[] {-2, 0}, new float[] {0, 5})
                                .withCounts(new ValueCounts(6, 0, 1)));
        byte[] bytes = write(p);
        assertEquals(PendingStepCodec.CURRENT_VERSION, bytes[0]);
        PendingStep back = read(bytes);
        assertEquals(p, back);
        assertEquals(new ValueCounts(16, 2, 4), back.batch().counts());
        assertEquals(3, back.ranks());
        assertArrayEquals(new float[] {-2, 0}, back.batch().min());
    }

    @Test
    void aStepWithAStatsShardHasNoCountsAndReadsBackSo() throws IOException {
        PendingStep p =
                step(
                        BatchMinMax.perTensor(-1, 1).withCounts(new ValueCounts(5, 0, 0)),
                        BatchMinMax.perTensor(-3, 0)); // stats
        PendingStep back = read(write(p));
        assertEquals(p, back);
        assertNull(back.batch().counts());
    }

    /** Version 1, byte by byte as its layout says: a per-tensor step with two ranks of four. */
    @Test
    void aVersion1StepReadsBackWithoutCounts() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(1);
        out.writeLong(42); // step
        out.writeInt(1); // rule
        out.writeInt(4); // world size
        out.writeLong(1_000); // deadline
        out.writeLong(0b101); // ranks 0 and 2 arrived
        out.writeInt(2); // ranks
        out.writeByte(1); // has values, per-tensor, not refused
        out.writeInt(1);
        out.writeInt(Float.floatToRawIntBits(-1.5f));
        out.writeInt(Float.floatToRawIntBits(2.5f));
        out.writeUTF("activations");
        out.writeInt(3);
        out.writeLong(12);
        PendingStep back = read(bytes.toByteArray());
        assertEquals(42, back.step);
        assertEquals(2, back.ranks());
        assertTrue(back.hasArrived(0) && back.hasArrived(2) && !back.hasArrived(1));
        assertEquals(BatchMinMax.perTensor(-1.5f, 2.5f), back.batch());
        assertNull(back.batch().counts(), "version 1 did not keep counts");
        assertEquals(12, back.sourceOffset());
        // Written again, it is a version 2 step without counts.
        PendingStep again = read(write(back));
        assertEquals(back, again);
    }

    @Test
    void countsThatCannotBeAreRefusedAsCorrupt() throws IOException {
        byte[] bytes =
                write(step(BatchMinMax.perTensor(0, 1).withCounts(new ValueCounts(5, 1, 2))));
        // The counts are the 24 bytes before the source topic (UTF: u16 length + "activations"),
        // its partition and offset: make non-finite (the second long) larger than values.
        int nonFiniteAt = bytes.length - (2 + "activations".length() + 4 + 8) - 16;
        bytes[nonFiniteAt + 7] = 9;
        IOException e = assertThrows(IOException.class, () -> read(bytes));
        assertTrue(e.getMessage().startsWith("corrupt pending step"), e.getMessage());
    }
}
