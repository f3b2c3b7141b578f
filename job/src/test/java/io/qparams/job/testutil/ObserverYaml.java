package io.qparams.job.testutil;

import java.util.ArrayList;
import java.util.List;

/**
 * Observer-config YAML (CONTRACT section 2) for the job's tests, built from its lines: the result
 * is exactly the YAML written out, a line per key, rules in the order given, a newline at the end.
 */
public final class ObserverYaml {
    private ObserverYaml() {}

    /** {@code *.weight}: per-channel min/max on axis 0, qint8, per_channel_symmetric. */
    public static final String SYMMETRIC_WEIGHTS =
            rule(
                    "*.weight",
                    "PerChannelMinMaxObserver",
                    "ch_axis: 0",
                    "dtype: qint8",
                    "qscheme: per_channel_symmetric");

    /**
     * One rule: {@code - match: "<match>"}, then {@code observer: <observer>}, then each option
     * ({@code key: value}) on a line of its own.
     */
    public static String rule(String match, String observer, String... options) {
        List<String> lines = new ArrayList<>();
        lines.add("  - match: \"" + match + "\"");
        lines.add("    observer: " + observer);
        for (String option : options) {
            lines.add("    " + option);
        }
        return String.join("\n", lines);
    }

    /** A config of these rules and no {@code nonfinite} line (the default policy). */
    public static String observers(String... rules) {
        return "observers:\n" + String.join("\n", rules) + "\n";
    }

    /** A config that starts {@code nonfinite: <policy>}, then these rules. */
    public static String withNonfinite(String policy, String... rules) {
        return "nonfinite: " + policy + "\n" + observers(rules);
    }
}
