package io.qparams.connectors.kafka;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.provider.DirectoryConfigProvider;
import org.apache.kafka.common.config.provider.EnvVarConfigProvider;
import org.apache.kafka.common.config.provider.FileConfigProvider;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The {@code --kafka-properties} file: Kafka client settings (security above all: SASL, SSL/mTLS)
 * that every Kafka client qparams creates takes, the job's sources and sinks, its topic check and
 * creation, and the CLI's readers and producers.
 *
 * <p>Secrets stay out of the file and out of the job: a value may hold Kafka's config-provider
 * references, {@code ${env:NAME}}, {@code ${file:/path/to/file.properties:key}} or {@code
 * ${dir:/path/to/dir:file}}, which each Kafka client resolves itself when it is created, on the
 * machine it runs on (the Flink client, the JobManager, each TaskManager). qparams passes the
 * references on unresolved, so the job graph, Flink's REST API and every log hold the reference,
 * never the secret. Unless the file declares {@code config.providers} itself, qparams declares
 * Kafka's three standard providers as {@code env}, {@code file} and {@code dir}.
 *
 * <p>Keys that the job's flags or its contract own ({@link #RESERVED}) are refused, and so is any
 * key that no Kafka producer, consumer or admin client knows (a typo would otherwise be ignored).
 * {@link #toString} shows every secret-typed value as {@code [hidden]}.
 */
public final class KafkaClientProperties {
    /** Keys the job sets from its flags, or must set as the contract says: never from the file. */
    static final Map<String, String> RESERVED =
            Map.ofEntries(
                    Map.entry("bootstrap.servers", "give --bootstrap-servers"),
                    Map.entry("group.id", "give --group-id"),
                    Map.entry(
                            "transactional.id", "the job names its transactions after --group-id"),
                    Map.entry("auto.offset.reset", "give --starting-offsets"),
                    Map.entry("enable.auto.commit", "offsets are committed on checkpoints"),
                    Map.entry("isolation.level", "the input is read with read_committed"),
                    Map.entry("key.serializer", "the job serializes its records"),
                    Map.entry("value.serializer", "the job serializes its records"),
                    Map.entry("key.deserializer", "the job deserializes its records"),
                    Map.entry("value.deserializer", "the job deserializes its records"));

    static final String PROVIDERS = "config.providers";

    /** Every reason names the flag and the file, as the command line gave them. */
    private static final String FLAG = "--kafka-properties ";

    /** What qparams declares when the file does not name its own providers. */
    static final Map<String, String> DEFAULT_PROVIDERS =
            Map.of(
                    PROVIDERS,
                    "env,file,dir",
                    PROVIDERS + ".env.class",
                    EnvVarConfigProvider.class.getName(),
                    PROVIDERS + ".file.class",
                    FileConfigProvider.class.getName(),
                    PROVIDERS + ".dir.class",
                    DirectoryConfigProvider.class.getName());

    /** A config-provider reference, as Kafka's ConfigTransformer finds them. */
    private static final Pattern REFERENCE =
            Pattern.compile("\\$\\{([^}]*?):(([^}]*?):)?([^}]*?)}");

    private static final List<ConfigDef> CLIENT_DEFS =
            List.of(
                    ConsumerConfig.configDef(),
                    ProducerConfig.configDef(),
                    AdminClientConfig.configDef());

    private static final KafkaClientProperties NONE = new KafkaClientProperties(null, Map.of());

    private final Path file;
    private final Map<String, String> settings;

    private KafkaClientProperties(Path file, Map<String, String> settings) {
        this.file = file;
        this.settings = Collections.unmodifiableMap(new TreeMap<>(settings));
    }

    /** No file: every client takes only the job's own settings (a plaintext cluster). */
    public static KafkaClientProperties none() {
        return NONE;
    }

    /**
     * Reads and checks a Java properties file (UTF-8), and checks that its config-provider
     * references resolve on this machine (the values they resolve to are not kept).
     *
     * @throws IllegalArgumentException with a one-line reason naming the file and the key, never a
     *     value
     */
    public static KafkaClientProperties load(Path file) {
        Properties raw = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            raw.load(in);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(FLAG + file + ": no such file");
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(FLAG + file + ": cannot read it: " + e.getMessage());
        }
        Map<String, String> settings = new LinkedHashMap<>();
        for (String key : raw.stringPropertyNames()) {
            String reserved = RESERVED.get(key);
            if (reserved != null) {
                throw new IllegalArgumentException(
                        FLAG + file + ": '" + key + "' cannot be set here (" + reserved + ")");
            }
            if (!key.equals(PROVIDERS) && !key.startsWith(PROVIDERS + ".") && !isClientKey(key)) {
                throw new IllegalArgumentException(
                        FLAG + file + ": '" + key + "' is not a Kafka client setting");
            }
            settings.put(key, raw.getProperty(key).strip());
        }
        if (!settings.containsKey(PROVIDERS)) {
            settings.putAll(DEFAULT_PROVIDERS);
        }
        KafkaClientProperties properties = new KafkaClientProperties(file, settings);
        properties.checkReferencesResolve();
        return properties;
    }

    /** The settings, config-provider references unresolved: what every client is given. */
    public Map<String, String> asMap() {
        return settings;
    }

    /** A client's properties: the bootstrap servers and these settings. */
    public Properties forClient(String bootstrapServers) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers);
        applyTo(props);
        return props;
    }

    /** Adds the settings to a client's properties (they win over what is there). */
    public void applyTo(Properties props) {
        props.putAll(settings);
    }

    /**
     * The keys whose values are secrets written into the file itself instead of a reference: they
     * travel with the job (see docs/security.md). A JAAS config counts when it holds a password.
     */
    public List<String> literalSecrets() {
        return settings.entrySet().stream()
                .filter(e -> isSecret(e.getKey()) && !e.getValue().contains("${"))
                .filter(
                        e ->
                                !e.getKey().endsWith("sasl.jaas.config")
                                        || e.getValue().toLowerCase().contains("password"))
                .map(Map.Entry::getKey)
                .toList();
    }

    /** Where the settings came from, or null for none. */
    public Path file() {
        return file;
    }

    /** The settings with every secret-typed value hidden, as Kafka's own config log shows them. */
    @Override
    public String toString() {
        return settings.entrySet().stream()
                .map(e -> e.getKey() + "=" + (isSecret(e.getKey()) ? "[hidden]" : e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KafkaClientProperties other && settings.equals(other.settings);
    }

    @Override
    public int hashCode() {
        return settings.hashCode();
    }

    static boolean isClientKey(String key) {
        return CLIENT_DEFS.stream().anyMatch(def -> def.names().contains(key));
    }

    /** A key Kafka types as a password (sasl.jaas.config, ssl.*.password, ...). */
    static boolean isSecret(String key) {
        return CLIENT_DEFS.stream()
                .map(def -> def.configKeys().get(key))
                .anyMatch(k -> k != null && k.type == ConfigDef.Type.PASSWORD);
    }

    /**
     * Resolves the references as a Kafka client would, here, and refuses a reference that stays
     * unresolved (Kafka would pass it on as text: an unset environment variable would become the
     * password "${env:NAME}", and the broker's "invalid credentials" would hide why).
     */
    private void checkReferencesResolve() {
        Set<String> declared =
                Stream.of(settings.getOrDefault(PROVIDERS, "").split(","))
                        .map(String::strip)
                        .collect(Collectors.toSet());
        for (Map.Entry<String, String> e : settings.entrySet()) {
            Matcher m = REFERENCE.matcher(e.getValue());
            while (m.find()) {
                if (!declared.contains(m.group(1))) {
                    throw new IllegalArgumentException(
                            FLAG
                                    + file
                                    + ": '"
                                    + e.getKey()
                                    + "' refers to config provider '"
                                    + m.group(1)
                                    + "', which config.providers does not declare");
                }
            }
        }
        Map<String, String> resolved;
        try {
            resolved = new AbstractConfig(new ConfigDef(), settings, false).originalsStrings();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    FLAG + file + ": its config providers fail: " + e.getMessage());
        }
        for (Map.Entry<String, String> e : resolved.entrySet()) {
            Matcher m = REFERENCE.matcher(e.getValue());
            if (m.find() && !e.getKey().startsWith(PROVIDERS)) {
                throw new IllegalArgumentException(
                        FLAG
                                + file
                                + ": '"
                                + e.getKey()
                                + "' refers to "
                                + m.group()
                                + ", which does not resolve on this machine (an environment"
                                + " variable that is not set, or a file or key that is missing)");
            }
        }
    }
}
