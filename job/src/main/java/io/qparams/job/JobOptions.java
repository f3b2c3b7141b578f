package io.qparams.job;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.qparams.connectors.Reasons;
import io.qparams.connectors.kafka.Delivery;
import io.qparams.connectors.kafka.KafkaSettings;
import io.qparams.connectors.kafka.StartingOffsets;
import io.qparams.connectors.kafka.Topics;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.util.ParameterTool;
import org.apache.flink.util.TimeUtils;

/**
 * The job's options (CONTRACT section 6), parsed once from the command line. Any unknown flag or bad
 * value is an {@link IllegalArgumentException} with a one-line reason (the CLI's exit status 2).
 */
public final class JobOptions implements KafkaSettings {
    /** Where keyed state lives: on the heap (fast, bounded by memory) or in RocksDB on local disk (large state). */
    public enum StateBackend {
        HASHMAP, ROCKSDB;

        public String flagValue() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final String DEFAULT_BOOTSTRAP_SERVERS = "localhost:9092";
    /**
     * Larger input values go to the DLQ unparsed. Below the DLQ topic's record limit
     * ({@link Topics#DLQ_MAX_MESSAGE_BYTES}, 16 MiB) with room for key and headers, so every refused
     * batch fits the DLQ whole.
     */
    public static final int DEFAULT_MAX_BATCH_BYTES = 15 << 20;
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);

    private static final List<String> FLAGS = List.of("bootstrap-servers", "config", "input-topic", "output-topic",
            "dlq-topic", "control-topic", "group-id", "parallelism", "checkpoint-interval", "delivery",
            "starting-offsets", "state-backend", "max-batch-bytes");
    /** ParameterTool's marker for a flag given without a value. */
    private static final String NO_VALUE = "__NO_VALUE_KEY";

    private final String bootstrapServers;
    private final boolean bootstrapServersGiven;
    private final Path config;
    private final String inputTopic;
    private final String outputTopic;
    private final String dlqTopic;
    private final String controlTopic;
    private final String groupId;
    private final Integer parallelism;
    private final Duration checkpointInterval;
    private final Delivery delivery;
    private final StartingOffsets startingOffsets;
    private final StateBackend stateBackend;
    private final int maxBatchBytes;

    private JobOptions(ParameterTool p) {
        bootstrapServersGiven = p.has("bootstrap-servers");
        bootstrapServers = text(p, "bootstrap-servers", DEFAULT_BOOTSTRAP_SERVERS);
        config = p.has("config") ? Path.of(text(p, "config", null)) : null;
        inputTopic = topic(p, "input-topic", "activations");
        outputTopic = topic(p, "output-topic", "qparams");
        dlqTopic = topic(p, "dlq-topic", "activations.dlq");
        controlTopic = topic(p, "control-topic", "qparams.control");
        groupId = text(p, "group-id", "qparams");
        parallelism = p.has("parallelism") ? positiveInt(p, "parallelism") : null;
        checkpointInterval = p.has("checkpoint-interval") ? duration(p, "checkpoint-interval") : DEFAULT_CHECKPOINT_INTERVAL;
        delivery = choice(p, "delivery", Delivery.class, Delivery.AT_LEAST_ONCE);
        startingOffsets = choice(p, "starting-offsets", StartingOffsets.class, StartingOffsets.COMMITTED);
        stateBackend = choice(p, "state-backend", StateBackend.class, StateBackend.HASHMAP);
        maxBatchBytes = p.has("max-batch-bytes") ? byteSize(p, "max-batch-bytes") : DEFAULT_MAX_BATCH_BYTES;
        Set<String> topics = Set.of(inputTopic, outputTopic, dlqTopic, controlTopic);
        if (topics.size() != 4) {
            throw new IllegalArgumentException("--input-topic, --output-topic, --dlq-topic and --control-topic must be "
                    + "four different topics (got " + inputTopic + ", " + outputTopic + ", " + dlqTopic + ", "
                    + controlTopic + ")");
        }
    }

    /** Parses {@code --flag value} pairs. @throws IllegalArgumentException with a one-line reason */
    public static JobOptions parse(String... args) {
        for (String arg : args) {
            if (arg != null && arg.startsWith("-") && !arg.startsWith("--") && !isNumber(arg)) {
                throw new IllegalArgumentException("unknown option " + arg + " (options are --" + String.join(", --", FLAGS) + ")");
            }
        }
        ParameterTool p;
        try {
            p = ParameterTool.fromArgs(args);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(Reasons.oneLine(e.getMessage()));
        }
        for (String key : p.toMap().keySet()) {
            if (!FLAGS.contains(key)) {
                throw new IllegalArgumentException("unknown option --" + key + " (options are --" + String.join(", --", FLAGS) + ")");
            }
        }
        return new JobOptions(p);
    }

    /** The defaults, as {@code parse()} with no arguments. */
    public static JobOptions defaults() {
        return parse();
    }

    /** The options as command-line arguments that parse back to these options. */
    public String[] toArgs() {
        java.util.ArrayList<String> args = new java.util.ArrayList<>();
        if (bootstrapServersGiven) {
            args.addAll(List.of("--bootstrap-servers", bootstrapServers));
        }
        if (config != null) {
            args.addAll(List.of("--config", config.toString()));
        }
        args.addAll(List.of("--input-topic", inputTopic, "--output-topic", outputTopic, "--dlq-topic", dlqTopic,
                "--control-topic", controlTopic, "--group-id", groupId));
        if (parallelism != null) {
            args.addAll(List.of("--parallelism", parallelism.toString()));
        }
        args.addAll(List.of("--checkpoint-interval", checkpointInterval.toMillis() + "ms", "--delivery",
                flag(delivery), "--starting-offsets", flag(startingOffsets), "--state-backend",
                flag(stateBackend), "--max-batch-bytes", Integer.toString(maxBatchBytes)));
        return args.toArray(new String[0]);
    }

    /** A copy with other bootstrap servers (the CLI's embedded broker). */
    public JobOptions withBootstrapServers(String servers) {
        String[] args = toArgs();
        java.util.ArrayList<String> list = new java.util.ArrayList<>(List.of(args));
        int i = list.indexOf("--bootstrap-servers");
        if (i >= 0) {
            list.set(i + 1, servers);
        } else {
            list.addAll(0, List.of("--bootstrap-servers", servers));
        }
        return parse(list.toArray(new String[0]));
    }

    private static String text(ParameterTool p, String key, String defaultValue) {
        if (!p.has(key)) {
            return defaultValue;
        }
        String value = p.get(key);
        if (value == null || value.equals(NO_VALUE) || value.isBlank()) {
            throw new IllegalArgumentException("--" + key + " needs a value");
        }
        return value.trim();
    }

    private static String topic(ParameterTool p, String key, String defaultValue) {
        String topic = text(p, key, defaultValue);
        if (topic.length() > 249 || !topic.matches("[a-zA-Z0-9._-]+") || topic.equals(".") || topic.equals("..")) {
            throw new IllegalArgumentException("--" + key + " '" + topic
                    + "': a Kafka topic name is 1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-'");
        }
        return topic;
    }

    private static int positiveInt(ParameterTool p, String key) {
        String value = text(p, key, null);
        try {
            int n = Integer.parseInt(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--" + key + " '" + value + "': expected a positive integer");
    }

    private static Duration duration(ParameterTool p, String key) {
        String value = text(p, key, null);
        Duration d;
        try {
            d = TimeUtils.parseDuration(value);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IllegalArgumentException("--" + key + " '" + value + "': expected a duration such as 10s, 500ms or 1min");
        }
        if (d.toMillis() < 10) {
            throw new IllegalArgumentException("--" + key + " '" + value + "': must be at least 10ms");
        }
        return d;
    }

    /** A size such as 1048576, 512kb or 15mb (Flink's MemorySize syntax), at least 1 KiB, below 2 GiB. */
    private static int byteSize(ParameterTool p, String key) {
        String value = text(p, key, null);
        long bytes;
        try {
            bytes = MemorySize.parseBytes(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + key + " '" + value + "': expected a size such as 1048576, 512kb or 15mb");
        }
        if (bytes < 1024 || bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("--" + key + " '" + value + "': must be between 1kb and 2gb");
        }
        return (int) bytes;
    }

    private static <E extends Enum<E>> E choice(ParameterTool p, String key, Class<E> type, E defaultValue) {
        if (!p.has(key)) {
            return defaultValue;
        }
        String value = text(p, key, null);
        StringBuilder allowed = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            String flag = e.name().toLowerCase(Locale.ROOT).replace('_', '-');
            if (flag.equals(value)) {
                return e;
            }
            allowed.append(allowed.length() == 0 ? "" : "|").append(flag);
        }
        throw new IllegalArgumentException("--" + key + " '" + value + "': expected " + allowed);
    }

    private static String flag(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Override
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Whether {@code --bootstrap-servers} was given (the CLI starts an embedded broker when not). */
    public boolean bootstrapServersGiven() {
        return bootstrapServersGiven;
    }

    /** The {@code --config} file, or null for the built-in defaults. */
    public Path config() {
        return config;
    }

    @Override
    public String inputTopic() {
        return inputTopic;
    }

    @Override
    public String outputTopic() {
        return outputTopic;
    }

    @Override
    public String dlqTopic() {
        return dlqTopic;
    }

    @Override
    public String controlTopic() {
        return controlTopic;
    }

    @Override
    public String groupId() {
        return groupId;
    }

    /** {@code --parallelism}, or null to keep the environment's default. */
    public Integer parallelism() {
        return parallelism;
    }

    @Override
    public Duration checkpointInterval() {
        return checkpointInterval;
    }

    @Override
    public Delivery delivery() {
        return delivery;
    }

    @Override
    public StartingOffsets startingOffsets() {
        return startingOffsets;
    }

    public StateBackend stateBackend() {
        return stateBackend;
    }

    /** {@code --max-batch-bytes}: input values above it go to the DLQ before any parsing. */
    public int maxBatchBytes() {
        return maxBatchBytes;
    }

    /** Reads the {@code --config} file (or the defaults) and validates it: the job's fail-fast step. */
    public ObserverConfigSource observerConfig() {
        return config == null ? ObserverConfigSource.defaults() : ObserverConfigSource.fromFile(config);
    }

    @Override
    public String toString() {
        Map<String, String> shown = new java.util.LinkedHashMap<>();
        shown.put("bootstrap-servers", bootstrapServers);
        shown.put("config", String.valueOf(config));
        shown.put("input-topic", inputTopic);
        shown.put("output-topic", outputTopic);
        shown.put("dlq-topic", dlqTopic);
        shown.put("control-topic", controlTopic);
        shown.put("group-id", groupId);
        shown.put("parallelism", String.valueOf(parallelism));
        shown.put("checkpoint-interval", checkpointInterval.toString());
        shown.put("delivery", flag(delivery));
        shown.put("starting-offsets", flag(startingOffsets));
        shown.put("state-backend", flag(stateBackend));
        shown.put("max-batch-bytes", Integer.toString(maxBatchBytes));
        return "JobOptions" + shown;
    }
}
