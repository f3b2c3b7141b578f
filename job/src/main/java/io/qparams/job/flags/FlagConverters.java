package io.qparams.job.flags;

import org.apache.flink.configuration.MemorySize;
import org.apache.flink.util.TimeUtils;

import io.qparams.connectors.kafka.Delivery;
import io.qparams.connectors.kafka.StartingOffsets;
import io.qparams.job.JobOptions;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Flag values from text, each with its one reason for a bad value. A reason leaves out the flag's
 * name: {@link CommandLines#reason} puts it in front ({@code --parallelism 'two': expected a
 * positive integer}). Every value is trimmed first; a blank one "needs a value".
 */
public final class FlagConverters {
    private FlagConverters() {}

    /**
     * An enum constant as a flag spells it: lowercase, '-' for '_' ({@code AT_LEAST_ONCE}: {@code
     * at-least-once}).
     */
    public static String spelling(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static String nonBlank(String value) {
        if (value == null || value.isBlank()) {
            throw new TypeConversionException("needs a value");
        }
        return value.trim();
    }

    /** Any non-blank text, trimmed. */
    public static final class Text implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            return nonBlank(value);
        }
    }

    /** A file path. */
    public static final class PathFlag implements ITypeConverter<Path> {
        @Override
        public Path convert(String value) {
            String text = nonBlank(value);
            try {
                return Path.of(text);
            } catch (InvalidPathException e) {
                throw new TypeConversionException(
                        "'" + text + "': not a path (" + e.getReason() + ")");
            }
        }
    }

    /** A Kafka topic name: what the broker accepts, checked before anything connects. */
    public static final class TopicName implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            String topic = nonBlank(value);
            if (topic.length() > 249
                    || !topic.matches("[a-zA-Z0-9._-]+")
                    || topic.equals(".")
                    || topic.equals("..")) {
                throw new TypeConversionException(
                        "'"
                                + topic
                                + "': a Kafka topic name is 1-249 characters of a-z, A-Z, 0-9, '.',"
                                + " '_' and '-'");
            }
            return topic;
        }
    }

    /** A whole number of at least 1. */
    public static final class PositiveInt implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return (int) positive(value, Integer.MAX_VALUE);
        }
    }

    /** A whole number of at least 1, up to Long.MAX_VALUE. */
    public static final class PositiveLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return positive(value, Long.MAX_VALUE);
        }
    }

    private static long positive(String value, long max) {
        String text = nonBlank(value);
        try {
            long n = Long.parseLong(text);
            if (n >= 1 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new TypeConversionException("'" + text + "': expected a positive integer");
    }

    /**
     * A duration in Flink's syntax (500ms, 10s, 1min; bare numbers are ms) from {@code min} to
     * {@code max}; {@code examples} and {@code range} word the two reasons a value is refused.
     */
    private static Duration duration(
            String value, String examples, Duration min, Duration max, String range) {
        String text = nonBlank(value);
        Duration duration;
        try {
            duration = TimeUtils.parseDuration(text);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new TypeConversionException(
                    "'" + text + "': expected a duration such as " + examples);
        }
        if (duration.compareTo(min) < 0 || (max != null && duration.compareTo(max) > 0)) {
            throw new TypeConversionException("'" + text + "': must be " + range);
        }
        return duration;
    }

    /**
     * A checkpoint interval in Flink's duration syntax (500ms, 10s, 1min; bare numbers are ms), at
     * least 10ms.
     */
    public static final class CheckpointInterval implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(
                    value, "10s, 500ms or 1min", Duration.ofMillis(10), null, "at least 10ms");
        }
    }

    /** A timeout: a duration of at least a second (30s, 2min). */
    public static final class Timeout implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(value, "30s or 2min", Duration.ofSeconds(1), null, "at least 1s");
        }
    }

    /** How long a data-parallel step waits for its missing ranks: at least 1ms. */
    public static final class StepTimeout implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(
                    value, "60s, 500ms or 5min", Duration.ofMillis(1), null, "at least 1ms");
        }
    }

    /** How long an idle tensor's state lives: at least a minute. */
    public static final class StateTtl implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(
                    value, "7d, 12h or 30min", Duration.ofMinutes(1), null, "at least 1min");
        }
    }

    /** A duration of zero or more, up to a second (a buffer held longer is a stalled stream). */
    public static final class BufferTimeout implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(
                    value,
                    "10ms, 0ms or 100ms",
                    Duration.ZERO,
                    Duration.ofSeconds(1),
                    "from 0ms to 1s");
        }
    }

    /**
     * A size in bytes in Flink's MemorySize syntax (1048576, 512kb, 15mb), from 1kb to just below
     * 2gb (an array).
     */
    public static final class ByteSize implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            String text = nonBlank(value);
            long bytes;
            try {
                bytes = MemorySize.parseBytes(text);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(
                        "'" + text + "': expected a size such as 1048576, 512kb or 15mb");
            }
            if (bytes < 1024 || bytes > Integer.MAX_VALUE - 8) {
                throw new TypeConversionException("'" + text + "': must be between 1kb and 2gb");
            }
            return (int) bytes;
        }
    }

    /**
     * An enum constant in its flag {@link #spelling}. Picocli makes converters from their class, so
     * each enum flag has a subclass naming its enum.
     */
    public abstract static class EnumFlag<E extends Enum<E>> implements ITypeConverter<E> {
        private final Class<E> type;

        protected EnumFlag(Class<E> type) {
            this.type = type;
        }

        @Override
        public E convert(String value) {
            String text = nonBlank(value);
            for (E constant : type.getEnumConstants()) {
                if (spelling(constant).equals(text)) {
                    return constant;
                }
            }
            throw new TypeConversionException(
                    "'"
                            + text
                            + "': expected "
                            + Arrays.stream(type.getEnumConstants())
                                    .map(FlagConverters::spelling)
                                    .collect(Collectors.joining("|")));
        }
    }

    public static final class DeliveryFlag extends EnumFlag<Delivery> {
        public DeliveryFlag() {
            super(Delivery.class);
        }
    }

    public static final class StartingOffsetsFlag extends EnumFlag<StartingOffsets> {
        public StartingOffsetsFlag() {
            super(StartingOffsets.class);
        }
    }

    public static final class StateBackendFlag extends EnumFlag<JobOptions.StateBackend> {
        public StateBackendFlag() {
            super(JobOptions.StateBackend.class);
        }
    }

    public static final class IncompleteStepsFlag extends EnumFlag<JobOptions.IncompleteSteps> {
        public IncompleteStepsFlag() {
            super(JobOptions.IncompleteSteps.class);
        }
    }
}
