package io.qparams.connectors.config;

import io.qparams.observers.InvalidObserverConfigException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObserverConfigLoaderTest {
    /** The example of CONTRACT section 2, verbatim. */
    static final String CONTRACT_EXAMPLE =
            String.join(
                    "\n",
                    "nonfinite: reject            # reject (default) | ignore | propagate",
                    "observers:                   # first rule whose glob matches the tensor name"
                            + " wins",
                    "  - match: \"*.weight\"        # glob: * any run of characters, ? one"
                            + " character",
                    "    observer: PerChannelMinMaxObserver",
                    "    ch_axis: 0",
                    "    dtype: qint8",
                    "    qscheme: per_channel_symmetric",
                    "  - match: \"*\"",
                    "    observer: MovingAverageMinMaxObserver",
                    "    averaging_constant: 0.01",
                    "    dtype: quint8",
                    "    qscheme: per_tensor_affine",
                    "    reduce_range: false",
                    "    # quant_min, quant_max, eps: torch's defaults when omitted",
                    "");

    @Test
    void contractExample(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("observers.yaml");
        Files.writeString(file, CONTRACT_EXAMPLE);
        ObserverConfig config = ObserverConfigLoader.load(file);
        assertEquals(NonFinitePolicy.REJECT, config.nonFinite());
        assertEquals(2, config.rules().size());
        assertEquals(
                ObserverSpec.builder(ObserverKind.PerChannelMinMaxObserver)
                        .chAxis(0)
                        .dtype(QuantDtype.qint8)
                        .qscheme(QScheme.per_channel_symmetric)
                        .build(),
                config.rules().get(0).spec());
        assertEquals(
                ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver)
                        .averagingConstant(0.01)
                        .build(),
                config.rules().get(1).spec());
        assertEquals(0, config.ruleIndexFor("encoder.layer.0.weight"));
        assertEquals(1, config.ruleIndexFor("encoder.layer.0.output"));
    }

    @Test
    void everyKeyAndForm() {
        ObserverConfig config =
                ObserverConfigLoader.parse(
                        String.join(
                                "\n",
                                "nonfinite: propagate",
                                "observers:",
                                "  - {match: 'a?', observer: MinMaxObserver, dtype: torch.qint8,"
                                        + " qscheme: torch.per_tensor_symmetric,",
                                "     reduce_range: true, quant_min: -5, quant_max: 10, eps: 1}",
                                "  - match: b*",
                                "    observer: MovingAveragePerChannelMinMaxObserver",
                                "    averaging_constant: 1",
                                "    ch_axis: -2",
                                "    eps: 1.0e-5",
                                "    quant_min: null",
                                "    quant_max: ~",
                                "    qscheme: per_channel_affine_float_qparams"),
                        "inline");
        assertEquals(NonFinitePolicy.PROPAGATE, config.nonFinite());
        ObserverSpec first = config.rules().get(0).spec();
        assertEquals(-3, first.quantMin());
        assertEquals(5, first.quantMax());
        assertEquals(1.0, first.eps());
        ObserverSpec second = config.rules().get(1).spec();
        assertEquals(1.0, second.averagingConstant());
        assertEquals(-2, second.chAxis());
        assertEquals(1.0e-5, second.eps());
        assertFalse(second.hasCustomizedQrange());
        assertEquals(0, second.quantMin());
        assertEquals(255, second.quantMax());
        assertNull(config.observerFor("c"));
    }

    @Test
    void defaults() {
        ObserverConfig config = ObserverConfigLoader.defaults();
        assertEquals(NonFinitePolicy.REJECT, config.nonFinite());
        assertEquals(1, config.rules().size());
        assertEquals("*", config.rules().get(0).match());
        assertEquals(
                ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver).build(),
                config.rules().get(0).spec());
        assertEquals(0.01, config.rules().get(0).spec().averagingConstant());
    }

    @Test
    void missingFile(@TempDir Path dir) {
        InvalidObserverConfigException e =
                assertThrows(
                        InvalidObserverConfigException.class,
                        () -> ObserverConfigLoader.load(dir.resolve("absent.yaml")));
        assertTrue(
                e.getMessage().startsWith(dir.resolve("absent.yaml") + ": cannot read the config"),
                e.getMessage());
    }

    private static final String RULE = "observers:\n  - match: \"x*\"\n";

    // CHECKSTYLE:OFF (line length: a table of cases reads best one case a line)
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            textBlock =
                    """
                    empty document            | ''                                                        | c.yaml: the config is empty
                    not a mapping             | '- a'                                                     | the config must be a mapping
                    YAML syntax error         | 'observers: [a'                                           | c.yaml: invalid YAML at line
                    duplicate key             | 'observers: []\\nobservers: []'                            | found duplicate key observers
                    arbitrary type tag        | 'observers: !!java.io.File [x]'                           | invalid YAML
                    unknown top-level key     | 'rules: []'                                               | c.yaml: unknown key 'rules' (expected nonfinite, observers, drift)
                    missing observers         | 'nonfinite: reject'                                       | c.yaml: missing key 'observers'
                    observers not a list      | 'observers: {match: x}'                                   | 'observers' must be a list of rules, got mapping
                    empty rules               | 'observers: []'                                           | 'observers' is empty
                    bad nonfinite             | 'nonfinite: maybe\\nobservers: [{match: x, observer: MinMaxObserver}]' | c.yaml: nonfinite 'maybe': expected reject, ignore or propagate
                    nonfinite not a string    | 'nonfinite: 1\\nobservers: [{match: x, observer: MinMaxObserver}]'     | 'nonfinite' must be a string, got integer 1
                    rule not a mapping        | 'observers: [x]'                                          | c.yaml: observers[0]: a rule must be a mapping
                    missing match             | 'observers: [{observer: MinMaxObserver}]'                 | c.yaml: observers[0]: missing key 'match'
                    match not a string        | 'observers: [{match: 5, observer: MinMaxObserver}]'       | observers[0]: 'match' must be a non-empty string glob, got integer 5
                    missing observer          | RULE                                                      | observers[0] (match "x*"): missing key 'observer'
                    unknown rule key          | RULE:    observer: MinMaxObserver\\n    is_dynamic: true   | observers[0] (match "x*"): unknown key 'is_dynamic'
                    unknown observer          | RULE:    observer: HistogramObserver                      | observers[0] (match "x*"): unknown observer 'HistogramObserver'
                    unknown dtype             | RULE:    observer: MinMaxObserver\\n    dtype: float16     | (match "x*"): dtype 'float16': Default Observer only works for
                    unknown qscheme           | RULE:    observer: MinMaxObserver\\n    qscheme: affine    | (match "x*"): qscheme 'affine'
                    averaging on MinMax       | RULE:    observer: MinMaxObserver\\n    averaging_constant: 0.1 | (match "x*"): MinMaxObserver got an unexpected keyword argument 'averaging_constant'
                    averaging on PerChannel   | RULE:    observer: PerChannelMinMaxObserver\\n    averaging_constant: 0.1 | PerChannelMinMaxObserver got an unexpected keyword argument 'averaging_constant'
                    ch_axis on per-tensor     | RULE:    observer: MovingAverageMinMaxObserver\\n    ch_axis: 1 | MovingAverageMinMaxObserver got an unexpected keyword argument 'ch_axis'
                    reduce_range string       | RULE:    observer: MinMaxObserver\\n    reduce_range: "yes" | 'reduce_range' must be true or false, got string "yes"
                    ch_axis float             | RULE:    observer: PerChannelMinMaxObserver\\n    ch_axis: 1.5 | (match "x*"): 'ch_axis' must be an integer, got float 1.5
                    ch_axis null              | RULE:    observer: PerChannelMinMaxObserver\\n    ch_axis: null | 'ch_axis' must be an integer, got null
                    quant_min float           | RULE:    observer: MinMaxObserver\\n    quant_min: 0.0\\n    quant_max: 5 | 'quant_min' must be an integer, got float 0.0
                    quant_max beyond int32    | RULE:    observer: MinMaxObserver\\n    quant_min: 0\\n    quant_max: 4294967296 | 'quant_max' 4294967296 is outside the int32 range
                    eps string                | RULE:    observer: MinMaxObserver\\n    eps: "1e-5"       | 'eps' must be a number, got string "1e-5"
                    averaging string          | RULE:    observer: MovingAverageMinMaxObserver\\n    averaging_constant: fast | 'averaging_constant' must be a number, got string "fast"
                    dtype not a string        | RULE:    observer: MinMaxObserver\\n    dtype: 8          | 'dtype' must be a string, got integer 8
                    range without 0           | RULE:    observer: MinMaxObserver\\n    quant_min: 1\\n    quant_max: 5 | (match "x*"): Used-specified quantization range must include 0.
                    qmin not below qmax       | RULE:    observer: MinMaxObserver\\n    quant_min: 0\\n    quant_max: 0 | qmin must be strictly less than qmax
                    qint8 range too long      | RULE:    observer: MinMaxObserver\\n    dtype: qint8\\n    quant_min: -200\\n    quant_max: 100 | not exceed the maximum bit range (=256)
                    symmetric quint8 reduce   | RULE:    observer: MinMaxObserver\\n    qscheme: per_tensor_symmetric\\n    reduce_range: true | Cannot reduce range for symmetric quantization for quint8
                    per-channel qscheme on per-tensor | RULE:    observer: MinMaxObserver\\n    qscheme: per_channel_affine | MinMaxObserver's qscheme only support torch.per_tensor_symmetric
                    per-tensor qscheme on per-channel | RULE:    observer: PerChannelMinMaxObserver\\n    qscheme: per_tensor_affine | PerChannelMinMaxObserver's qscheme only support
                    drift not a list          | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: {match: x}'          | c.yaml: 'drift' must be a list of rules (match, window, threshold), got mapping
                    drift rule not a mapping  | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: [x]'                   | c.yaml: drift[0]: a drift rule must be a mapping with 'match', got string "x"
                    drift without match       | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: [{window: 5}]'         | c.yaml: drift[0]: 'match' must be a non-empty string glob, got null
                    drift unknown key         | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: [{match: x, every: 5}]' | c.yaml: drift[0] (match "x"): unknown key 'every' (expected match, window, threshold)
                    drift window zero         | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: [{match: x, window: 0}]' | c.yaml: drift[0] (match "x"): 'window' must be a number of batches from 1 to 100000, got 0
                    drift window float        | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: [{match: x, window: 2.5}]' | drift[0] (match "x"): 'window' must be an integer, got float 2.5
                    drift threshold zero      | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: [{match: x, threshold: 0}]' | drift[0] (match "x"): 'threshold' must be a finite number above 0
                    drift threshold string    | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: [{match: x, threshold: "25%"}]' | drift[0] (match "x"): 'threshold' must be a number, got string "25%"
                    drift second rule located | 'observers: [{match: x, observer: MinMaxObserver}]\\ndrift: [{match: a}, {match: b, window: -3}]' | c.yaml: drift[1] (match "b"): 'window' must be a number of batches
                    second rule located       | 'observers:\\n  - {match: a, observer: MinMaxObserver}\\n  - {match: b, observer: MinMaxObserver, ch_axis: 0}' | c.yaml: observers[1] (match "b"): MinMaxObserver got an unexpected keyword argument 'ch_axis'
                    """)
    // CHECKSTYLE:ON
    void refused(String name, String yaml, String reason) {
        String text =
                (yaml.startsWith("RULE") ? RULE + yaml.substring(Math.min(5, yaml.length())) : yaml)
                        .replace("\\n", "\n");
        InvalidObserverConfigException e =
                assertThrows(
                        InvalidObserverConfigException.class,
                        () -> ObserverConfigLoader.parse(text, "c.yaml"),
                        name);
        String message = e.getMessage();
        assertTrue(message.startsWith("c.yaml: "), message);
        assertFalse(message.contains("\n"), message);
        assertTrue(
                message.contains(reason.replace("\\n", "\n")),
                "'" + message + "' should contain '" + reason + "'");
    }

    @Test
    void driftRulesWithTheirDefaultsFirstMatchWins() {
        ObserverConfig config =
                ObserverConfigLoader.parse(
                        RULE
                                + "    observer: MinMaxObserver\n"
                                + "drift:\n"
                                + "  - {match: \"x.head*\", window: 10, threshold: 0.5}\n"
                                + "  - match: \"x*\"\n",
                        "c.yaml");
        assertEquals(2, config.drift().size());
        assertEquals(10, config.driftRuleFor("x.head.0").window());
        assertEquals(0.5, config.driftRuleFor("x.head.0").threshold());
        assertEquals(
                ObserverConfigLoader.DEFAULT_DRIFT_WINDOW, config.driftRuleFor("x.y").window());
        assertEquals(
                ObserverConfigLoader.DEFAULT_DRIFT_THRESHOLD,
                config.driftRuleFor("x.y").threshold());
        assertNull(config.driftRuleFor("y"), "no drift rule matches: not watched");
        assertTrue(
                ObserverConfigLoader.parse(RULE + "    observer: MinMaxObserver\n", "c.yaml")
                        .drift()
                        .isEmpty(),
                "off by default");
        assertTrue(
                ObserverConfigLoader.parse(
                                RULE + "    observer: MinMaxObserver\ndrift: []\n", "c.yaml")
                        .drift()
                        .isEmpty());
    }

    @Test
    void yamlBooleansAndNumbersAsSnakeYamlReadsThem() {
        ObserverConfig config =
                ObserverConfigLoader.parse(
                        RULE
                                + "    observer: MinMaxObserver\n    reduce_range: yes\n"
                                + "    eps: 1e-5\n",
                        "c.yaml");
        assertTrue(config.rules().get(0).spec().reduceRange());
        assertEquals(1e-5, config.rules().get(0).spec().eps());
    }
}
