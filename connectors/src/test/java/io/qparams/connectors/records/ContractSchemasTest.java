package io.qparams.connectors.records;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** The schemas accept the contract's own examples and refuse what the contract rules out. */
class ContractSchemasTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** JSON written with ' for " (none of these texts holds a ' of its own). */
    private static byte[] json(String s) {
        return utf8(s.replace('\'', '"'));
    }

    private static final String OK =
            "{\"tensor\":\"encoder.layer.0.output\",\"status\":\"ok\",\"observer\":\"MovingAverageMinMaxObserver\","
                + "\"dtype\":\"quint8\",\"qscheme\":\"per_tensor_affine\",\"quant_min\":0,\"quant_max\":255,"
                + "\"averaging_constant\":0.01,\"batches\":42,\"min_val\":-3.5406811,\"max_val\":3.4330976,"
                + "\"scale\":0.027348,\"zero_point\":129,"
                + "\"source\":{\"topic\":\"activations\",\"partition\":0,\"offset\":1234}}";

    @Test
    void theContractsExamplesPass() {
        ContractSchemas.assertRecord(utf8(OK));
        ContractSchemas.assertRecord(
                json(
                        "{'tensor':'w','status':'ok','observer':'PerChannelMinMaxObserver',"
                                + "'dtype':'qint8','qscheme':'per_channel_affine_float_qparams',"
                                + "'quant_min':-128,'quant_max':127,'ch_axis':0,'batches':1,"
                                + "'min_val':[-1,'-Infinity'],'max_val':[1,2],'scale':[0.01,0.02],"
                                + "'zero_point':[0.5,-1.25],'source':{'file':'b.npy','index':3}}"));
        ContractSchemas.assertRecord(
                json(
                        "{'tensor':'x','status':'invalid','reason':'min_val should be less than"
                                + " max_val','observer':'MinMaxObserver','dtype':'quint8',"
                                + "'qscheme':'per_tensor_affine','quant_min':0,'quant_max':255,"
                                + "'batches':0,'min_val':'Infinity','max_val':'-Infinity',"
                                + "'scale':null,'zero_point':null,"
                                + "'source':{'file':'b.npy','index':0}}"));
        ContractSchemas.assertDeadLetterHeaders(
                Map.of(
                        "qparams.error",
                        "not an NPY file",
                        "qparams.source.topic",
                        "activations",
                        "qparams.source.partition",
                        "3",
                        "qparams.source.offset",
                        "17"));
        ContractSchemas.assertExportJson(utf8("{\"model.x\": " + OK + "}"));
    }

    @Test
    void whatTheContractRulesOutFails() {
        assertThrows(
                AssertionError.class,
                () -> ContractSchemas.assertRecord(utf8(OK.replace("\"batches\":42,", ""))));
        assertThrows(
                AssertionError.class,
                () ->
                        ContractSchemas.assertRecord(
                                utf8(OK.replace("\"zero_point\":129", "\"zero_point\":129.5"))));
        assertThrows(
                AssertionError.class,
                () ->
                        ContractSchemas.assertRecord(
                                utf8(
                                        OK.replace(
                                                "\"min_val\":-3.5406811",
                                                "\"min_val\":[-3.5406811]"))));
        assertThrows(
                AssertionError.class,
                () ->
                        ContractSchemas.assertRecord(
                                utf8(OK.replace("\"averaging_constant\":0.01,", ""))));
        assertThrows(
                AssertionError.class,
                () -> ContractSchemas.assertRecord(utf8(OK.replace("}}", "},\"extra\":1}"))));
        assertThrows(
                AssertionError.class,
                () ->
                        ContractSchemas.assertRecord(
                                utf8(OK.replace("\"max_val\":3.4330976", "\"max_val\":\"inf\""))));
        assertThrows(
                AssertionError.class,
                () ->
                        ContractSchemas.assertDeadLetterHeaders(
                                Map.of(
                                        "qparams.error",
                                        "two\nlines",
                                        "qparams.source.topic",
                                        "a",
                                        "qparams.source.partition",
                                        "0",
                                        "qparams.source.offset",
                                        "1")));
        assertThrows(
                AssertionError.class,
                () ->
                        ContractSchemas.assertDeadLetterHeaders(
                                Map.of(
                                        "qparams.error",
                                        "x",
                                        "qparams.source.topic",
                                        "a",
                                        "qparams.source.partition",
                                        "-1",
                                        "qparams.source.offset",
                                        "1")));
        assertThrows(
                AssertionError.class,
                () -> ContractSchemas.assertExportJson(utf8("{\"model.x\": {\"tensor\": \"x\"}}")));
    }
}
