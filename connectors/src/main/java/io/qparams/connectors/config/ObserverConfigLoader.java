package io.qparams.connectors.config;

import io.qparams.connectors.Reasons;
import io.qparams.observers.DriftRule;
import io.qparams.observers.InvalidObserverConfigException;
import io.qparams.observers.NonFinitePolicy;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverKind;
import io.qparams.observers.ObserverSpec;
import io.qparams.observers.QScheme;
import io.qparams.observers.QuantDtype;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.qparams.connectors.config.ConfigValues.checkKeys;
import static io.qparams.connectors.config.ConfigValues.describe;
import static io.qparams.connectors.config.ConfigValues.number;
import static io.qparams.connectors.config.ConfigValues.optionalInt;
import static io.qparams.connectors.config.ConfigValues.string;
import static io.qparams.connectors.config.ConfigValues.within;

/**
 * The observer configuration file (CONTRACT section 2), read with SnakeYAML's SafeConstructor
 * (plain maps, lists and scalars only). Everything torch's constructors would refuse, and every key
 * torch does not know, is refused with an {@link InvalidObserverConfigException} whose one-line
 * message names the file, the rule ({@code observers[i] (match "...")}) and the bad key or value.
 */
public final class ObserverConfigLoader {
    private static final List<String> TOP_KEYS = List.of("nonfinite", "observers", "drift");
    private static final List<String> DRIFT_KEYS = List.of("match", "window", "threshold");

    /** A drift rule's window and threshold when it leaves them out. */
    public static final int DEFAULT_DRIFT_WINDOW = 100;

    public static final double DEFAULT_DRIFT_THRESHOLD = 0.25;
    private static final List<String> RULE_KEYS =
            List.of(
                    "match",
                    "observer",
                    "dtype",
                    "qscheme",
                    "reduce_range",
                    "quant_min",
                    "quant_max",
                    "eps",
                    "averaging_constant",
                    "ch_axis");

    private ObserverConfigLoader() {}

    /**
     * No file given: every tensor gets a MovingAverageMinMaxObserver with torch's defaults;
     * nonfinite reject.
     */
    public static ObserverConfig defaults() {
        return new ObserverConfig(
                NonFinitePolicy.REJECT,
                List.of(
                        new ObserverConfig.Rule(
                                "*",
                                ObserverSpec.builder(ObserverKind.MovingAverageMinMaxObserver)
                                        .build())));
    }

    public static ObserverConfig load(Path file) {
        return parse(read(file), file.toString());
    }

    /**
     * The config file's text, unparsed (the job ships the text to its task managers).
     *
     * @throws InvalidObserverConfigException with a one-line reason naming the file
     */
    public static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidObserverConfigException(
                    Reasons.oneLine(file + ": cannot read the config: " + e));
        }
    }

    /**
     * @param sourceName names the config in messages (the file path)
     */
    public static ObserverConfig parse(String yaml, String sourceName) {
        try {
            return parseDocument(yaml, sourceName);
        } catch (InvalidObserverConfigException e) {
            // Reasons may quote the file's own text (a value, a mapping): one line, whatever it
            // holds.
            String reason = Reasons.oneLine(e.getMessage());
            throw reason.equals(e.getMessage()) ? e : new InvalidObserverConfigException(reason);
        }
    }

    private static ObserverConfig parseDocument(String yaml, String sourceName) {
        Object document = loadYaml(yaml, sourceName);
        if (document == null) {
            throw new InvalidObserverConfigException(
                    sourceName + ": the config is empty (expected 'observers')");
        }
        if (!(document instanceof Map<?, ?> top)) {
            throw new InvalidObserverConfigException(
                    sourceName
                            + ": the config must be a mapping with 'observers' (and optionally"
                            + " 'nonfinite' and 'drift')");
        }
        checkKeys(top, TOP_KEYS, sourceName);
        NonFinitePolicy nonFinite = NonFinitePolicy.REJECT;
        if (top.containsKey("nonfinite")) {
            nonFinite =
                    within(
                            sourceName,
                            () -> NonFinitePolicy.parse(string(top.get("nonfinite"), "nonfinite")));
        }
        if (!top.containsKey("observers")) {
            throw new InvalidObserverConfigException(
                    sourceName + ": missing key 'observers' (the list of rules)");
        }
        if (!(top.get("observers") instanceof List<?> items)) {
            throw new InvalidObserverConfigException(
                    sourceName
                            + ": 'observers' must be a list of rules, got "
                            + describe(top.get("observers")));
        }
        if (items.isEmpty()) {
            throw new InvalidObserverConfigException(
                    sourceName + ": 'observers' is empty: at least one rule is needed");
        }
        List<ObserverConfig.Rule> rules = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            rules.add(rule(items.get(i), sourceName + ": observers[" + i + "]"));
        }
        return new ObserverConfig(nonFinite, rules, driftRules(top.get("drift"), sourceName));
    }

    /** The {@code drift:} list (CONTRACT section 7); absent or null: no tensor is watched. */
    private static List<DriftRule> driftRules(Object items, String sourceName) {
        if (items == null) {
            return List.of();
        }
        if (!(items instanceof List<?> list)) {
            throw new InvalidObserverConfigException(
                    sourceName
                            + ": 'drift' must be a list of rules (match, window, threshold), got "
                            + describe(items));
        }
        List<DriftRule> rules = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String where = sourceName + ": drift[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> rule)) {
                throw new InvalidObserverConfigException(
                        where
                                + ": a drift rule must be a mapping with 'match', got "
                                + describe(list.get(i)));
            }
            Object match = rule.get("match");
            String at = match instanceof String ? where + " (match \"" + match + "\")" : where;
            checkKeys(rule, DRIFT_KEYS, at);
            if (!(match instanceof String glob) || glob.isEmpty()) {
                throw new InvalidObserverConfigException(
                        at + ": 'match' must be a non-empty string glob, got " + describe(match));
            }
            rules.add(
                    within(
                            at,
                            () -> {
                                Integer window = optionalInt(rule.get("window"), "window");
                                Object threshold = rule.get("threshold");
                                return new DriftRule(
                                        glob,
                                        window == null ? DEFAULT_DRIFT_WINDOW : window,
                                        threshold == null
                                                ? DEFAULT_DRIFT_THRESHOLD
                                                : number(threshold, "threshold"));
                            }));
        }
        return rules;
    }

    private static Object loadYaml(String yaml, String sourceName) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(20);
        options.setNestingDepthLimit(20);
        try {
            return new Yaml(new SafeConstructor(options)).load(yaml);
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark();
            throw new InvalidObserverConfigException(
                    sourceName
                            + ": invalid YAML"
                            + (mark == null
                                    ? ""
                                    : " at line "
                                            + (mark.getLine() + 1)
                                            + ", column "
                                            + (mark.getColumn() + 1))
                            + ": "
                            + Reasons.oneLine(
                                    (e.getContext() == null ? "" : e.getContext() + ", ")
                                            + e.getProblem()));
        } catch (YAMLException e) {
            throw new InvalidObserverConfigException(
                    sourceName + ": invalid YAML: " + Reasons.oneLine(e.getMessage()));
        } catch (RuntimeException e) {
            // SnakeYAML throws plain IllegalArgumentException for some malformed input (e.g. the
            // tag "!%6").
            throw new InvalidObserverConfigException(
                    sourceName
                            + ": invalid YAML: "
                            + Reasons.oneLine(String.valueOf(e.getMessage())));
        }
    }

    private static ObserverConfig.Rule rule(Object item, String where) {
        if (!(item instanceof Map<?, ?> rule)) {
            throw new InvalidObserverConfigException(
                    where
                            + ": a rule must be a mapping with 'match' and 'observer', got "
                            + describe(item));
        }
        Object match = rule.get("match");
        String at = match instanceof String ? where + " (match \"" + match + "\")" : where;
        checkKeys(rule, RULE_KEYS, at);
        if (!rule.containsKey("match")) {
            throw new InvalidObserverConfigException(
                    at + ": missing key 'match' (a glob of tensor names)");
        }
        if (!(match instanceof String glob) || glob.isEmpty()) {
            throw new InvalidObserverConfigException(
                    at + ": 'match' must be a non-empty string glob, got " + describe(match));
        }
        if (!rule.containsKey("observer")) {
            throw new InvalidObserverConfigException(at + ": missing key 'observer'");
        }
        ObserverKind kind =
                within(at, () -> ObserverKind.parse(string(rule.get("observer"), "observer")));
        // torch's constructors take no such keyword: TypeError
        for (String key : List.of("averaging_constant", "ch_axis")) {
            boolean belongs = key.equals("ch_axis") ? kind.isPerChannel() : kind.isMovingAverage();
            if (rule.containsKey(key) && !belongs) {
                throw new InvalidObserverConfigException(
                        at + ": " + kind + " got an unexpected keyword argument '" + key + "'");
            }
        }
        ObserverSpec spec =
                within(
                        at,
                        () -> {
                            ObserverSpec.Builder b = ObserverSpec.builder(kind);
                            if (rule.containsKey("dtype")) {
                                b.dtype(QuantDtype.parse(string(rule.get("dtype"), "dtype")));
                            }
                            if (rule.containsKey("qscheme")) {
                                b.qscheme(QScheme.parse(string(rule.get("qscheme"), "qscheme")));
                            }
                            if (rule.containsKey("reduce_range")) {
                                if (!(rule.get("reduce_range") instanceof Boolean reduceRange)) {
                                    throw new InvalidObserverConfigException(
                                            "'reduce_range' must be true or false, got "
                                                    + describe(rule.get("reduce_range")));
                                }
                                b.reduceRange(reduceRange);
                            }
                            b.quantMin(optionalInt(rule.get("quant_min"), "quant_min"));
                            b.quantMax(optionalInt(rule.get("quant_max"), "quant_max"));
                            if (rule.containsKey("eps")) {
                                b.eps(number(rule.get("eps"), "eps"));
                            }
                            if (rule.containsKey("averaging_constant")) {
                                b.averagingConstant(
                                        number(
                                                rule.get("averaging_constant"),
                                                "averaging_constant"));
                            }
                            if (rule.containsKey("ch_axis")) {
                                Integer chAxis = optionalInt(rule.get("ch_axis"), "ch_axis");
                                if (chAxis == null) {
                                    throw new InvalidObserverConfigException(
                                            "'ch_axis' must be an integer, got null");
                                }
                                b.chAxis(chAxis);
                            }
                            return b.build();
                        });
        return new ObserverConfig.Rule(glob, spec);
    }
}
