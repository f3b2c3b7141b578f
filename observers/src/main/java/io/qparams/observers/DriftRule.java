package io.qparams.observers;

import java.util.regex.Pattern;

/**
 * One {@code drift:} rule of the config (CONTRACT section 7): the tensors its glob matches are
 * watched for a scale that moves by more than {@code threshold} (relative) against its value {@code
 * window} batches earlier. The first rule whose glob matches a tensor wins, as for observers.
 */
public final class DriftRule {
    /** Scales kept per tensor (and channel): a bound on the state a rule can ask for. */
    public static final int MAX_WINDOW = 100_000;

    private final String match;
    private final Pattern pattern;
    private final int window;
    private final double threshold;

    /**
     * @throws InvalidObserverConfigException when the window is not in [1, {@link #MAX_WINDOW}] or
     *     the threshold is not a finite number above 0
     */
    public DriftRule(String match, int window, double threshold) {
        if (window < 1 || window > MAX_WINDOW) {
            throw new InvalidObserverConfigException(
                    "'window' must be a number of batches from 1 to "
                            + MAX_WINDOW
                            + ", got "
                            + window);
        }
        if (!(threshold > 0) || Double.isInfinite(threshold)) {
            throw new InvalidObserverConfigException(
                    "'threshold' must be a finite number above 0 (0.25 = the scale moved by 25%),"
                            + " got "
                            + threshold);
        }
        this.match = match;
        this.pattern = ObserverConfig.Rule.globToRegex(match);
        this.window = window;
        this.threshold = threshold;
    }

    public String match() {
        return match;
    }

    public boolean matches(String tensor) {
        return pattern.matcher(tensor).matches();
    }

    /** How many batches back the scale is compared with. */
    public int window() {
        return window;
    }

    /** A drift_ratio above it marks drift. */
    public double threshold() {
        return threshold;
    }
}
