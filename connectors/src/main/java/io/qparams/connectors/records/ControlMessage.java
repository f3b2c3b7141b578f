package io.qparams.connectors.records;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.qparams.connectors.Reasons;
import io.qparams.observers.InvalidBatchException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A message of the control topic (CONTRACT section 5): key = tensor name, value {@code {"op":
 * "reset"}}, which resets that tensor's observer to its initial state. Anything else is refused
 * with a one-line reason (the message then goes to the DLQ).
 */
public final class ControlMessage {
    private static final JsonFactory FACTORY = JsonFactory.builder().build();
    private static final ControlMessage RESET = new ControlMessage("reset");

    private final String op;

    private ControlMessage(String op) {
        this.op = op;
    }

    public static ControlMessage reset() {
        return RESET;
    }

    public static ControlMessage parse(byte[] value) throws InvalidBatchException {
        if (value == null || value.length == 0) {
            throw new InvalidBatchException(
                    "control message has no value (expected {\"op\": \"reset\"})");
        }
        String op = null;
        try (JsonParser p = FACTORY.createParser(value)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidBatchException(
                        "control message must be a JSON object like {\"op\": \"reset\"}");
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                if (!key.equals("op")) {
                    throw new InvalidBatchException(
                            "control message has unknown key '"
                                    + Reasons.excerpt(key)
                                    + "' (expected only \"op\")");
                }
                if (op != null) {
                    throw new InvalidBatchException("control message has key 'op' twice");
                }
                if (v != JsonToken.VALUE_STRING) {
                    throw new InvalidBatchException("control message 'op' must be a string");
                }
                op = p.getText();
            }
            if (p.nextToken() != null) {
                throw new InvalidBatchException(
                        "control message has content after its closing '}'");
            }
        } catch (JsonProcessingException e) {
            throw new InvalidBatchException(
                    "control message is not valid JSON: "
                            + Reasons.oneLine(e.getOriginalMessage()));
        } catch (IOException | RuntimeException e) {
            throw new InvalidBatchException(
                    "control message is not valid JSON: " + Reasons.oneLine(e.toString()));
        }
        if (op == null) {
            throw new InvalidBatchException(
                    "control message lacks 'op' (expected {\"op\": \"reset\"})");
        }
        if (!op.equals("reset")) {
            throw new InvalidBatchException(
                    "unknown control op '" + Reasons.excerpt(op) + "' (expected \"reset\")");
        }
        return RESET;
    }

    public boolean isReset() {
        return "reset".equals(op);
    }

    public String op() {
        return op;
    }

    /** The message's JSON value, UTF-8. */
    public byte[] toBytes() {
        return ("{\"op\": \"" + op + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "ControlMessage{op=" + op + "}";
    }
}
