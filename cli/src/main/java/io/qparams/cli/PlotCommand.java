package io.qparams.cli;

import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.Exporter;
import io.qparams.export.RecordVisitor;
import io.qparams.export.RecordsFile;
import io.qparams.export.TensorSelection;
import io.qparams.export.TopicRecords;
import io.qparams.job.flags.FlagConverters;
import io.qparams.job.flags.HelpOption;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * {@code qparams plot}: every record of a tensor (or of every tensor), from a records file or the
 * whole output topic, drawn as PNG charts over batches ({@link PlotHistory}, {@link TensorCharts}).
 */
@Command(
        name = "plot",
        sortOptions = false,
        sortSynopsis = false,
        header = "Draw tensors' qparams over batches as PNG charts.",
        description = {
            "Reads every record, from a JSON-lines records file or from the output topic (read"
                + " committed from its beginning up to the end offsets seen at the start), and"
                + " draws a tensor's history over batches: a per-tensor observer's min_val and"
                + " max_val, and its scale below; a per-channel observer's range (max_val -"
                + " min_val) as a heatmap, channels up, with its colour scale. A tensor's history"
                + " is its current run: from its last record with batches 1 (a reset, or a job"
                + " restarted without state) on. --all writes one PNG per tensor and an index.html"
                + " into a folder. --out is replaced in one step, never left half written.",
            ""
        },
        footer = {
            "",
            "Exit status: 0 written; 2 a bad command line, an unreadable or empty source, or an"
                    + " unknown tensor (one line on stderr; nothing is written)."
        })
final class PlotCommand implements Callable<Integer> {
    private static final long PROGRESS_NANOS = 5_000_000_000L;

    @ParentCommand private QParams qparams;

    @Option(
            names = "--records",
            paramLabel = "FILE",
            converter = FlagConverters.PathFlag.class,
            description =
                    "Read a JSON-lines file of qparams records, in order (default: none; give"
                            + " --records or --bootstrap-servers).")
    private Path records;

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT",
            converter = FlagConverters.Text.class,
            description = "Read the output topic from this Kafka cluster (default: none).")
    private String bootstrapServers;

    @Option(
            names = "--topic",
            paramLabel = "TOPIC",
            converter = FlagConverters.TopicName.class,
            description = "The output topic to read (default: ${DEFAULT-VALUE}).")
    private String topic = "qparams";

    @Mixin private KafkaPropertiesFlag kafkaProperties;

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = FlagConverters.Timeout.class,
            description =
                    "Give up when the cluster does not answer, or the read makes no progress, for"
                            + " this long (default: 30s).")
    private Duration timeout = Duration.ofSeconds(30);

    @Option(
            names = "--tensor",
            paramLabel = "NAME",
            converter = FlagConverters.Text.class,
            description =
                    "Draw this tensor into the PNG file --out (default: none; give --tensor or"
                            + " --all).")
    private String tensor;

    @Option(
            names = "--all",
            description =
                    "Draw every tensor: a PNG each and an index.html, in the folder --out"
                            + " (default: off).")
    private boolean all;

    @Option(
            names = "--match",
            paramLabel = "GLOB",
            converter = FlagConverters.Text.class,
            description =
                    "With --all: only the tensors the glob matches (* any characters, ? one);"
                            + " repeat for more (default: every tensor).")
    private List<String> match = new ArrayList<>();

    @Option(
            names = "--out",
            required = true,
            paramLabel = "PATH",
            converter = FlagConverters.PathFlag.class,
            description =
                    "The PNG file (--tensor) or the folder (--all) to write (required); an earlier"
                            + " one there is replaced.")
    private Path out;

    @Mixin private HelpOption help;

    @Override
    public Integer call() throws UsageException {
        if ((records == null) == (bootstrapServers == null)) {
            throw new UsageException("give either --records FILE or --bootstrap-servers HOST:PORT");
        }
        if (kafkaProperties.given() && bootstrapServers == null) {
            throw new UsageException("--kafka-properties goes with --bootstrap-servers only");
        }
        if ((tensor == null) == !all) {
            throw new UsageException("give either --tensor NAME or --all");
        }
        if (!match.isEmpty() && !all) {
            throw new UsageException("--match selects tensors for --all only");
        }
        // Charts are drawn in memory: no display (bin/qparams passes it too, conf/jvm.options).
        System.setProperty("java.awt.headless", "true");
        PrintStream err = qparams.err();
        try {
            TensorSelection selection = TensorSelection.of(match, null);
            Predicate<String> selected = all ? selection::matches : tensor::equals;
            PlotHistory history = new PlotHistory(selected);
            String source = read(history, err);
            if (history.records() == 0) {
                throw new UsageException(
                        records != null
                                ? records + " holds no records"
                                : "topic '" + topic + "' is empty");
            }
            if (history.runs().isEmpty()) {
                throw new UsageException(
                        (all
                                        ? "--match leaves none of the "
                                        : "no records of tensor '" + tensor + "' among the ")
                                + history.seen().size()
                                + " tensors of "
                                + source
                                + " ("
                                + TensorSelection.abbreviate(new ArrayList<>(history.seen()))
                                + ")");
            }
            if (all) {
                Exporter.replace(
                        out, true, "plot --all", staging -> drawAll(history, staging, source));
                err.printf(
                        "plot: %d tensors drawn in %s (index.html)%n", history.runs().size(), out);
            } else {
                PlotHistory.Run run = history.runs().get(tensor);
                Exporter.replace(
                        out,
                        false,
                        "plot --tensor",
                        staging -> TensorCharts.writePng(TensorCharts.chart(tensor, run), staging));
                err.printf(
                        "plot: %s, batches %d to %d, drawn in %s%n",
                        tensor, run.points().firstKey(), run.points().lastKey(), out);
            }
            return QParams.EXIT_OK;
        } catch (ExportException e) {
            throw new UsageException(e.getMessage());
        } catch (IOException e) {
            throw new UsageException("writing " + out + " failed: " + e);
        }
    }

    /** Reads every record into {@code history}; returns what was read, for messages. */
    private String read(PlotHistory history, PrintStream err)
            throws ExportException, UsageException {
        if (records != null) {
            long[] lastNote = {System.nanoTime()};
            RecordsFile.read(
                    records,
                    new RecordVisitor() {
                        @Override
                        public void record(ExportEntry entry, int partition, long timestamp) {
                            history.record(entry, partition, timestamp);
                            if (System.nanoTime() - lastNote[0] > PROGRESS_NANOS) {
                                err.printf(
                                        "plot: read %,d records of %s%n",
                                        history.records(), records);
                                lastNote[0] = System.nanoTime();
                            }
                        }

                        @Override
                        public void tombstone(String tensor, int partition) {
                            history.tombstone(tensor, partition);
                        }
                    });
            return records.toString();
        }
        Properties client = kafkaProperties.forClient(bootstrapServers, "qparams-plot");
        try (TopicRecords topicRecords = TopicRecords.open(client, topic, timeout)) {
            topicRecords.readToEnd(history, err, "plot");
            topicRecords.noteSkipped(err, "plot");
        }
        return "topic '" + topic + "'";
    }

    private void drawAll(PlotHistory history, Path folder, String source) throws IOException {
        Files.createDirectory(folder);
        Map<String, String> files = PlotIndex.fileNames(history.runs().keySet());
        long lastNote = System.nanoTime();
        int drawn = 0;
        for (Map.Entry<String, String> e : files.entrySet()) {
            PlotHistory.Run run = history.runs().get(e.getKey());
            TensorCharts.writePng(
                    TensorCharts.chart(e.getKey(), run), folder.resolve(e.getValue()));
            drawn++;
            if (System.nanoTime() - lastNote > PROGRESS_NANOS) {
                qparams.err().printf("plot: drew %d of %d tensors%n", drawn, files.size());
                lastNote = System.nanoTime();
            }
        }
        Files.writeString(
                folder.resolve("index.html"),
                PlotIndex.html(files, source),
                StandardCharsets.UTF_8);
    }
}
