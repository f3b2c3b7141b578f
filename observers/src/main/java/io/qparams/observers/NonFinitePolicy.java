package io.qparams.observers;

import java.util.Locale;

/** What to do with NaN and +-inf in a batch (CONTRACT section 2, {@code nonfinite}). */
public enum NonFinitePolicy {
    /** A batch holding NaN or +-inf is refused; the state stays as it was. The default. */
    REJECT,
    /** Only the finite values are observed; a batch (or channel) with none is refused. */
    IGNORE,
    /** torch exactly: NaN poisons the state until reset, infinities enter the arithmetic. */
    PROPAGATE;

    public static NonFinitePolicy parse(String name) {
        for (NonFinitePolicy policy : values()) {
            if (policy.configName().equals(name)) {
                return policy;
            }
        }
        throw new InvalidObserverConfigException(
                "nonfinite '" + name + "': expected reject, ignore or propagate");
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
