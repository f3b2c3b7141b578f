package io.qparams.observers;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The whole observer configuration (CONTRACT section 2): the non-finite policy and the rules that
 * give each tensor its observer. The first rule whose glob matches the tensor name wins.
 */
public final class ObserverConfig {
    private final NonFinitePolicy nonFinite;
    private final List<Rule> rules;
    private final List<DriftRule> drift;

    public ObserverConfig(NonFinitePolicy nonFinite, List<Rule> rules) {
        this(nonFinite, rules, List.of());
    }

    /**
     * @param drift the {@code drift:} rules (CONTRACT section 7); empty: no tensor is watched
     */
    public ObserverConfig(NonFinitePolicy nonFinite, List<Rule> rules, List<DriftRule> drift) {
        this.nonFinite = nonFinite;
        this.rules = List.copyOf(rules);
        this.drift = List.copyOf(drift);
    }

    public NonFinitePolicy nonFinite() {
        return nonFinite;
    }

    public List<Rule> rules() {
        return rules;
    }

    /** The index of the first rule matching the tensor, or -1 when none does. */
    public int ruleIndexFor(String tensor) {
        for (int i = 0; i < rules.size(); i++) {
            if (rules.get(i).matches(tensor)) {
                return i;
            }
        }
        return -1;
    }

    /** The drift rules, in the config's order. */
    public List<DriftRule> drift() {
        return drift;
    }

    /** The first drift rule matching the tensor, or null when none does (not watched). */
    public DriftRule driftRuleFor(String tensor) {
        for (DriftRule rule : drift) {
            if (rule.matches(tensor)) {
                return rule;
            }
        }
        return null;
    }

    /** The observer of the first matching rule, or null when no rule matches. */
    public Observer observerFor(String tensor) {
        int i = ruleIndexFor(tensor);
        return i < 0 ? null : rules.get(i).observer();
    }

    /** One {@code match:} glob and the observer it selects. */
    public static final class Rule {
        private final String match;
        private final Pattern pattern;
        private final Observer observer;

        public Rule(String match, ObserverSpec spec) {
            this.match = match;
            this.pattern = globToRegex(match);
            this.observer = new Observer(spec);
        }

        public String match() {
            return match;
        }

        public ObserverSpec spec() {
            return observer.spec();
        }

        public Observer observer() {
            return observer;
        }

        public boolean matches(String tensor) {
            return pattern.matcher(tensor).matches();
        }

        /**
         * {@code *} any run of characters (dots included), {@code ?} one character, all else
         * literal. Also the glob of {@code qparams export --match}.
         */
        public static Pattern globToRegex(String glob) {
            StringBuilder regex = new StringBuilder();
            StringBuilder literal = new StringBuilder();
            for (int i = 0; i < glob.length(); i++) {
                char ch = glob.charAt(i);
                if (ch == '*' || ch == '?') {
                    if (literal.length() > 0) {
                        regex.append(Pattern.quote(literal.toString()));
                        literal.setLength(0);
                    }
                    regex.append(ch == '*' ? ".*" : ".");
                } else {
                    literal.append(ch);
                }
            }
            if (literal.length() > 0) {
                regex.append(Pattern.quote(literal.toString()));
            }
            return Pattern.compile(regex.toString(), Pattern.DOTALL);
        }
    }
}
