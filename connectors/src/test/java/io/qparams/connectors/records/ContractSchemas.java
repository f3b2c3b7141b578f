package io.qparams.connectors.records;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON Schemas of docs/schema, for the tests that check what the job and the tools write: every
 * qparams record an ITCase reads ({@link #assertRecord}), every dead letter's headers ({@link
 * #assertDeadLetterHeaders}), {@code qparams export --format json} ({@link #assertExportJson}),
 * every drift event ({@link #assertDriftEvent}). Validated with networknt's json-schema-validator
 * (draft 2020-12); the schemas' {@code https://qparams.io/schema/FILE} ids resolve to the files in
 * docs/schema, never to the network.
 */
public final class ContractSchemas {
    private static final String ID_PREFIX = "https://qparams.io/schema/";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> FILES =
            List.of(
                    "qparams-record.schema.json",
                    "dead-letter-headers.schema.json",
                    "export.schema.json",
                    "drift-event.schema.json");
    private static final SchemaRegistry REGISTRY =
            SchemaRegistry.withDefaultDialect(
                    SpecificationVersion.DRAFT_2020_12, b -> b.schemas(contents()));
    private static final Schema RECORD = schema("qparams-record.schema.json");
    private static final Schema DEAD_LETTER_HEADERS = schema("dead-letter-headers.schema.json");
    private static final Schema EXPORT_JSON = schema("export.schema.json");
    private static final Schema DRIFT_EVENT = schema("drift-event.schema.json");

    private ContractSchemas() {}

    /** docs/schema, found from a module's folder (where surefire and failsafe run) or the root. */
    public static Path folder() {
        for (Path p : List.of(Path.of("..", "docs", "schema"), Path.of("docs", "schema"))) {
            if (Files.isRegularFile(p.resolve("qparams-record.schema.json"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException(
                "docs/schema not found from " + Path.of("").toAbsolutePath());
    }

    /** Each schema's text by its id (https://qparams.io/schema/FILE), read from docs/schema. */
    private static Map<String, String> contents() {
        Map<String, String> byId = new HashMap<>();
        for (String file : FILES) {
            try {
                byId.put(ID_PREFIX + file, Files.readString(folder().resolve(file)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return byId;
    }

    private static Schema schema(String file) {
        return REGISTRY.getSchema(SchemaLocation.of(ID_PREFIX + file));
    }

    /**
     * Fails unless the bytes are a qparams record as docs/schema/qparams-record.schema.json says.
     */
    public static void assertRecord(byte[] record) {
        check(RECORD, parse(record), record);
    }

    /** Fails unless the dead letter's headers (name to UTF-8 value) are as the schema says. */
    public static void assertDeadLetterHeaders(Map<String, String> headers) {
        ObjectNode node = JSON.createObjectNode();
        headers.forEach(node::put);
        check(DEAD_LETTER_HEADERS, node, headers.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Fails unless the bytes are a {@code qparams export --format json} file. */
    public static void assertExportJson(byte[] json) {
        check(EXPORT_JSON, parse(json), json);
    }

    /** Fails unless the bytes are a drift event of the events topic. */
    public static void assertDriftEvent(byte[] event) {
        check(DRIFT_EVENT, parse(event), event);
    }

    private static JsonNode parse(byte[] json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "not JSON: " + new String(json, StandardCharsets.UTF_8), e);
        }
    }

    private static void check(Schema schema, JsonNode node, byte[] what) {
        List<Error> errors = schema.validate(node);
        if (!errors.isEmpty()) {
            throw new AssertionError(
                    "against "
                            + schema.getSchemaLocation()
                            + ": "
                            + errors
                            + "\n  "
                            + new String(what, StandardCharsets.UTF_8));
        }
    }
}
