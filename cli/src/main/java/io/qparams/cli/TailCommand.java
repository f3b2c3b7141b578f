package io.qparams.cli;

import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.LatestRecords;
import io.qparams.export.RecordVisitor;
import io.qparams.export.TensorSelection;
import io.qparams.export.TopicRecords;
import io.qparams.job.flags.FlagConverters;
import io.qparams.job.flags.HelpOption;
import org.apache.kafka.common.errors.WakeupException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code qparams tail}: follows the output topic. On a terminal, a table of the latest record of
 * every tensor redrawn in place ({@link TailTable} on a {@link TerminalScreen}); otherwise one line
 * per record, appended. Ctrl-C (or a closed stdout) ends it; the consumer closes cleanly.
 */
@Command(
        name = "tail",
        sortOptions = false,
        sortSynopsis = false,
        header = "Follow the output topic: a live table of every tensor's latest qparams.",
        description = {
            "Follows the output topic (read committed, so exactly-once output shows as it commits),"
                + " from its beginning by default so that the table starts complete. On a terminal"
                + " it keeps one row per tensor, sorted by name and redrawn in place: batches, min,"
                + " max, scale, zero point (per-channel: the widest channel, and the channel"
                + " count), a drift mark (* and drift_ratio when a record says \"drift\": true) and"
                + " the age of the last update. When stdout is not a terminal it appends one line"
                + " per record instead. Runs until Ctrl-C.",
            ""
        },
        footer = {
            "",
            "Exit status: 0 stdout closed; 130 Ctrl-C (143 on SIGTERM), after closing the"
                    + " consumer; 2 a bad command line, an unreachable cluster or a missing topic"
                    + " (one line on stderr)."
        })
final class TailCommand implements Callable<Integer> {
    private static final Duration POLL = Duration.ofMillis(250);
    private static final long REDRAW_NANOS = 1_000_000_000L;
    private static final long FASTEST_REDRAW_NANOS = 250_000_000L;

    /** Where the follower starts. */
    enum From {
        EARLIEST,
        LATEST
    }

    /** --starting-offsets' values. */
    static final class FromFlag extends FlagConverters.EnumFlag<From> {
        FromFlag() {
            super(From.class);
        }
    }

    @ParentCommand private QParams qparams;

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT",
            converter = FlagConverters.Text.class,
            description = "The Kafka cluster (default: ${DEFAULT-VALUE}).")
    private String bootstrapServers = "localhost:9092";

    @Option(
            names = "--topic",
            paramLabel = "TOPIC",
            converter = FlagConverters.TopicName.class,
            description = "The output topic to follow (default: ${DEFAULT-VALUE}).")
    private String topic = "qparams";

    @Mixin private KafkaPropertiesFlag kafkaProperties;

    @Option(
            names = "--match",
            paramLabel = "GLOB",
            converter = FlagConverters.Text.class,
            description =
                    "Show only the tensors the glob matches (* any characters, ? one); repeat for"
                            + " more (default: every tensor).")
    private List<String> match = new ArrayList<>();

    @Option(
            names = "--starting-offsets",
            paramLabel = "earliest|latest",
            converter = FromFlag.class,
            description =
                    "Start from the beginning of the topic (every tensor's latest record at once)"
                            + " or from its end (only what comes next) (default: earliest).")
    private From from = From.EARLIEST;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = FlagConverters.Timeout.class,
            description =
                    "Give up when the cluster does not answer, or reading what the topic already"
                            + " holds makes no progress, for this long (default: 30s).")
    private Duration timeout = Duration.ofSeconds(30);

    @Mixin private HelpOption help;

    @Override
    public Integer call() throws UsageException {
        PrintStream out = qparams.out();
        // A terminal on stdin and stdout (System.console()); only the real stdout can be one.
        boolean terminal = out == System.out && System.console() != null;
        Properties client = kafkaProperties.forClient(bootstrapServers, "qparams-tail");
        CountDownLatch finished = new CountDownLatch(1);
        try (TopicRecords records = TopicRecords.open(client, topic, timeout);
                TerminalScreen screen = terminal ? new TerminalScreen(out) : null) {
            TensorSelection selection = TensorSelection.of(match, null);
            Thread stop = new Thread(() -> stop(records, finished), "qparams-tail-stop");
            Runtime.getRuntime().addShutdownHook(stop);
            try {
                return terminal
                        ? table(records, selection, screen)
                        : lines(records, selection, out);
            } catch (WakeupException e) {
                return QParams.EXIT_OK; // Ctrl-C: the shutdown hook woke the consumer up
            } finally {
                removeHook(stop);
            }
        } catch (ExportException e) {
            throw new UsageException(e.getMessage());
        } finally {
            finished.countDown();
        }
    }

    /** Appends one line per record until stdout is closed (or Ctrl-C). */
    private int lines(TopicRecords records, TensorSelection selection, PrintStream out)
            throws ExportException {
        RecordVisitor printer =
                new RecordVisitor() {
                    @Override
                    public void record(ExportEntry entry, int partition, long timestamp) {
                        if (selection.matches(entry.tensor())) {
                            out.println(
                                    Instant.ofEpochMilli(timestamp)
                                            + " "
                                            + QParamsPrinter.summarize(entry.json()));
                        }
                    }

                    @Override
                    public void tombstone(String tensor, int partition) {
                        if (selection.matches(tensor)) {
                            out.println(tensor + " deleted (a tombstone)");
                        }
                    }
                };
        if (from == From.LATEST) {
            records.seekToEnd();
        }
        while (!out.checkError()) {
            records.poll(POLL, printer);
            out.flush();
        }
        return QParams.EXIT_OK;
    }

    /** Keeps the table of the latest records on the screen, redrawn when it changes (or 1/s). */
    private int table(TopicRecords records, TensorSelection selection, TerminalScreen screen)
            throws ExportException {
        LatestRecords latest = new LatestRecords();
        long[] count = new long[1];
        RecordVisitor keeper =
                new RecordVisitor() {
                    @Override
                    public void record(ExportEntry entry, int partition, long timestamp) {
                        count[0]++;
                        if (selection.matches(entry.tensor())) {
                            latest.record(entry, partition, timestamp);
                        }
                    }

                    @Override
                    public void tombstone(String tensor, int partition) {
                        latest.tombstone(tensor, partition);
                    }
                };
        if (from == From.LATEST) {
            records.seekToEnd();
        } else {
            // What the topic holds first, so that the first drawing is the complete table.
            records.readToEnd(keeper, qparams.err(), "qparams tail");
        }
        long drawn = 0;
        long drawnCount = -1;
        while (true) {
            long now = System.nanoTime();
            // Changes show within a quarter of a second, ages once a second.
            if ((count[0] != drawnCount && now - drawn >= FASTEST_REDRAW_NANOS)
                    || now - drawn > REDRAW_NANOS) {
                screen.draw(
                        TailTable.lines(
                                title(latest.table().size(), count[0]),
                                latest,
                                System.currentTimeMillis(),
                                screen.columns(),
                                screen.rows()));
                drawn = now;
                drawnCount = count[0];
            }
            records.poll(POLL, keeper);
        }
    }

    private String title(int tensors, long count) {
        return String.format(
                "qparams tail: %s on %s, %d tensors, %,d records, %s (Ctrl-C to stop)",
                topic,
                bootstrapServers,
                tensors,
                count,
                LocalTime.now().truncatedTo(ChronoUnit.SECONDS));
    }

    /** The shutdown hook: wakes the follower up and waits (briefly) until it has closed. */
    private static void stop(TopicRecords records, CountDownLatch finished) {
        records.wakeup();
        try {
            finished.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down (Ctrl-C): the hook is running
        }
    }
}
