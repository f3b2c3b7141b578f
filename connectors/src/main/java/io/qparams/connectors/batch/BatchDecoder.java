package io.qparams.connectors.batch;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.qparams.connectors.Reasons;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.BatchReducer;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverSpec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Objects;

/**
 * Decodes one activation batch (CONTRACT section 1: NPY, JSON tensor or JSON stats) straight into
 * the observer's reduction. Float32 NPY data goes to {@link BatchReducer#acceptFloat32} as the
 * record's bytes; other values are converted to float32 into one reused chunk buffer and fed to the
 * reducer, so decoding allocates nothing per element; no buffer is ever sized by what a record
 * claims, only by what it holds.
 *
 * <p>One per task thread: not thread-safe.
 */
public final class BatchDecoder {
    public static final String CONTENT_TYPE_HEADER = "content-type";
    public static final String CONTENT_TYPE_NPY = "application/x-npy";
    public static final String CONTENT_TYPE_JSON = "application/json";
    public static final int DEFAULT_MAX_VALUE_BYTES = 64 << 20;
    static final int CHUNK_FLOATS = 8192;

    private final int maxValueBytes;
    private final float[] chunk = new float[CHUNK_FLOATS];
    private final JsonBatchDecoder json = new JsonBatchDecoder(chunk);
    private final NpyHeader.Cache headers = new NpyHeader.Cache();

    public BatchDecoder() {
        this(DEFAULT_MAX_VALUE_BYTES);
    }

    /**
     * @param maxValueBytes larger record values are refused before any parsing
     */
    public BatchDecoder(int maxValueBytes) {
        if (maxValueBytes <= 0) {
            throw new IllegalArgumentException("maxValueBytes must be positive: " + maxValueBytes);
        }
        this.maxValueBytes = maxValueBytes;
    }

    /**
     * Reduces one record value as {@code spec}'s observer reduces a batch.
     *
     * @param contentType the record's {@code content-type} header, or null: {@code
     *     application/x-npy} and {@code application/json} decide the format; anything else lets the
     *     bytes decide (NPY magic, else JSON)
     * @return the batch's min/max, or null for an empty tensor (0 elements: nothing to apply or
     *     emit)
     * @throws InvalidBatchException with a one-line reason for every malformed or refused value; no
     *     other exception escapes, whatever the bytes
     */
    public BatchMinMax decode(
            byte[] value, String contentType, ObserverSpec spec, NonFinitePolicy policy)
            throws InvalidBatchException {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(policy, "policy");
        if (value == null) {
            throw new InvalidBatchException("record has no value");
        }
        if (value.length == 0) {
            throw new InvalidBatchException("record value is empty");
        }
        if (value.length > maxValueBytes) {
            throw new InvalidBatchException(
                    "record value of "
                            + value.length
                            + " bytes exceeds the limit of "
                            + maxValueBytes
                            + " bytes");
        }
        try {
            return isNpy(value, contentType)
                    ? decodeNpy(value, spec, policy)
                    : json.decode(value, spec, policy);
        } catch (InvalidBatchException e) {
            // Reasons may quote the producer's text (a header key, a dtype): one line, whatever it
            // holds.
            String reason = Reasons.oneLine(e.getMessage());
            throw reason.equals(e.getMessage()) ? e : e.withMessage(reason);
        } catch (JsonProcessingException e) {
            throw new InvalidBatchException("invalid JSON: " + jsonProblem(e));
        } catch (IOException e) {
            throw new InvalidBatchException(
                    "invalid JSON: " + Reasons.oneLine(String.valueOf(e.getMessage())));
        } catch (RuntimeException | StackOverflowError e) {
            // Defensive: a decoding bug must cost one record, not the job.
            throw new InvalidBatchException(
                    "cannot decode batch: " + Reasons.oneLine(e.toString()));
        }
    }

    static boolean isNpy(byte[] value, String contentType) {
        if (contentType != null) {
            int semicolon = contentType.indexOf(';');
            String mediaType =
                    (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
                            .trim()
                            .toLowerCase(Locale.ROOT);
            if (mediaType.equals(CONTENT_TYPE_NPY)) {
                return true;
            }
            if (mediaType.equals(CONTENT_TYPE_JSON)) {
                return false;
            }
        }
        // 0x93 never starts JSON text, so a truncated magic is still reported as NPY.
        return NpyHeader.startsWithMagicByte(value);
    }

    private BatchMinMax decodeNpy(byte[] value, ObserverSpec spec, NonFinitePolicy policy)
            throws InvalidBatchException {
        NpyHeader header = headers.parse(value);
        long numel = BatchReducer.numel(header.shape);
        int itemSize = header.dtype.itemSize();
        long dataBytes = value.length - header.dataOffset;
        // Checked before anything is sized by the shape: a huge claimed shape dies here.
        if (numel > dataBytes / itemSize || numel * itemSize != dataBytes) {
            throw new InvalidBatchException(
                    "NPY data holds "
                            + dataBytes
                            + " bytes but shape "
                            + NpyHeader.formatShape(header.shape)
                            + " of "
                            + itemSize
                            + "-byte elements needs "
                            + (numel > Long.MAX_VALUE / itemSize
                                    ? "more than " + Long.MAX_VALUE
                                    : numel * itemSize)
                            + " bytes");
        }
        if (numel == 0) {
            return null;
        }
        BatchReducer reducer =
                BatchReducer.forSpec(spec, header.shape, header.fortranOrder, policy);
        if (header.dtype == NpyDtype.FLOAT32) {
            // Straight from the record's bytes: no copy when the JVM has the Vector API module.
            reducer.acceptFloat32(value, header.dataOffset, (int) numel, header.order);
        } else {
            ByteBuffer data =
                    ByteBuffer.wrap(value, header.dataOffset, (int) dataBytes)
                            .slice()
                            .order(header.order);
            for (long done = 0; done < numel; ) {
                int n = (int) Math.min(chunk.length, numel - done);
                header.dtype.toFloats(data, (int) (done * itemSize), chunk, n);
                reducer.accept(chunk, 0, n);
                done += n;
            }
        }
        return reducer.finish();
    }

    private static String jsonProblem(JsonProcessingException e) {
        // Jackson names nested locations as "[Source: ...; line: 1, column: 24]": keep the position
        // only.
        String problem =
                Reasons.oneLine(String.valueOf(e.getOriginalMessage()))
                        .replaceAll("\\[Source: [^\\]]*?; (line: \\d+, column: \\d+)\\]", "$1");
        JsonLocation at = e.getLocation();
        return at == null
                ? problem
                : problem + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }
}
