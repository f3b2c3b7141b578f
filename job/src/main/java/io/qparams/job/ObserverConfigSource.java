package io.qparams.job;

import io.qparams.connectors.config.ObserverConfigLoader;
import io.qparams.observers.InvalidObserverConfigException;
import io.qparams.observers.ObserverConfig;

import java.io.Serializable;
import java.nio.file.Path;

/**
 * The observer configuration as it travels to the task managers: the YAML text (or "the defaults"),
 * validated once on the client when the job is built, and parsed again in each function's open().
 * ({@link ObserverConfig} is not Serializable, and the file need not exist on the task managers.)
 */
public final class ObserverConfigSource implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The YAML text, or null for {@link ObserverConfigLoader#defaults()}. */
    private final String yaml;

    /** Names the config in messages: the file path. */
    private final String sourceName;

    private transient ObserverConfig parsed;

    private ObserverConfigSource(String yaml, String sourceName) {
        this.yaml = yaml;
        this.sourceName = sourceName;
        this.parsed = config(); // fail fast, on the client, with the loader's one-line reason
    }

    /** The built-in defaults (no {@code --config}). */
    public static ObserverConfigSource defaults() {
        return new ObserverConfigSource(null, "defaults");
    }

    /**
     * Reads and validates a config file.
     *
     * @throws InvalidObserverConfigException with a one-line reason: unreadable file, bad YAML, or
     *     a combination torch refuses
     */
    public static ObserverConfigSource fromFile(Path file) {
        return new ObserverConfigSource(ObserverConfigLoader.read(file), file.toString());
    }

    /** A config given as YAML text. */
    public static ObserverConfigSource fromYaml(String yaml, String sourceName) {
        return new ObserverConfigSource(yaml, sourceName);
    }

    public static ObserverConfigSource fromYaml(String yaml) {
        return fromYaml(yaml, "inline config");
    }

    /**
     * The parsed config; parsed once per instance (so once per function instance on a task
     * manager).
     */
    public ObserverConfig config() {
        if (parsed == null) {
            parsed =
                    yaml == null
                            ? ObserverConfigLoader.defaults()
                            : ObserverConfigLoader.parse(yaml, sourceName);
        }
        return parsed;
    }

    public String sourceName() {
        return sourceName;
    }
}
