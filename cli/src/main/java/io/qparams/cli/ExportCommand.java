package io.qparams.cli;

import io.qparams.export.ExportEntry;
import io.qparams.export.ExportException;
import io.qparams.export.ExportFormat;
import io.qparams.export.Exporter;
import io.qparams.export.Formats;
import io.qparams.export.LatestRecords;
import io.qparams.export.TensorSelection;
import io.qparams.export.formats.AimetExport;
import io.qparams.export.formats.TensorRtExport;
import io.qparams.job.flags.FlagConverters;
import io.qparams.job.flags.HelpOption;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SortedMap;
import java.util.concurrent.Callable;

/**
 * {@code qparams export}: the latest record of every tensor, from the output topic or a records
 * file, written in a format a model-export toolchain reads (docs/export.md).
 */
@Command(
        name = "export",
        sortOptions = false,
        sortSynopsis = false,
        header = "Write the latest qparams of every tensor in a toolchain's format.",
        description = {
            "Reads the latest record of every tensor, from the output topic (read committed, up to"
                + " the end offsets seen at the start, so it ends on a live topic) or from a"
                + " JSON-lines records file (what calibrate prints), and writes it in one format"
                + " (docs/export.md). --out is replaced in one step, never left half written.",
            ""
        },
        footer = {
            "",
            "Exit status: 0 written; 2 a bad command line, an unreadable source, or a record the"
                    + " format cannot express (one line on stderr naming the tensor; nothing is"
                    + " written)."
        })
final class ExportCommand implements Callable<Integer> {
    @ParentCommand private QParams qparams;

    @Spec private CommandSpec spec;

    @Option(
            names = "--format",
            required = true,
            paramLabel = "FORMAT",
            converter = FlagConverters.Text.class,
            description =
                    "json, onnx, tensorrt, aimet, ort-calibration or torch, see docs/export.md"
                            + " (required).")
    private String format;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "PATH",
            converter = FlagConverters.PathFlag.class,
            description =
                    "The file to write, a folder for ort-calibration (required); an earlier export"
                            + " there is replaced.")
    private Path out;

    @Option(
            names = "--records",
            paramLabel = "FILE",
            converter = FlagConverters.PathFlag.class,
            description =
                    "Read a JSON-lines file of qparams records, the last of each tensor wins"
                            + " (default: none; give --records or --bootstrap-servers).")
    private Path records;

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT",
            converter = FlagConverters.Text.class,
            description = "Read the output topic from this Kafka cluster (default: none).")
    private String bootstrapServers;

    @Mixin private KafkaPropertiesFlag kafkaProperties;

    @Option(
            names = "--topic",
            paramLabel = "TOPIC",
            converter = FlagConverters.TopicName.class,
            description = "The output topic to read (default: ${DEFAULT-VALUE}).")
    private String topic = "qparams";

    @Option(
            names = "--timeout",
            paramLabel = "DURATION",
            converter = FlagConverters.Timeout.class,
            description =
                    "Give up when the cluster does not answer, or the read makes no progress, for"
                            + " this long (default: 30s).")
    private Duration timeout = Duration.ofSeconds(30);

    @Option(
            names = "--match",
            paramLabel = "GLOB",
            converter = FlagConverters.Text.class,
            description =
                    "Export only the tensors the glob matches (* any characters, ? one); repeat"
                            + " for more (default: every tensor).")
    private List<String> match = new ArrayList<>();

    @Option(
            names = "--rename",
            paramLabel = "FILE",
            converter = FlagConverters.PathFlag.class,
            description =
                    "Tensor name -> model name: a JSON object, or lines 'TENSOR MODEL_NAME'"
                            + " (default: the tensor names).")
    private Path rename;

    @Option(
            names = "--model",
            paramLabel = "IN.onnx",
            converter = FlagConverters.PathFlag.class,
            description =
                    "onnx: the model to insert QuantizeLinear/DequantizeLinear pairs in, by value"
                            + " name (default: none; the onnx format needs it).")
    private Path model;

    @Option(
            names = "--tensorrt-header",
            paramLabel = "TRT-VERSION-ALGO",
            converter = FlagConverters.Text.class,
            description = "tensorrt: the cache's first line (default: ${DEFAULT-VALUE}).")
    private String tensorrtHeader = TensorRtExport.DEFAULT_HEADER;

    @Option(
            names = "--aimet-version",
            paramLabel = "VERSION",
            converter = FlagConverters.Text.class,
            description =
                    "aimet: the encodings' version, 0.6.1, 1.0.0 or 2.0.0 (default:"
                            + " ${DEFAULT-VALUE}).")
    private String aimetVersion = AimetExport.DEFAULT_VERSION;

    @Mixin private HelpOption help;

    @Override
    public Integer call() throws UsageException {
        if ((records == null) == (bootstrapServers == null)) {
            throw new UsageException("give either --records FILE or --bootstrap-servers HOST:PORT");
        }
        // A format's own option with another format is a mistake, not something to ignore.
        for (String[] own :
                new String[][] {
                    {"--model", "onnx"},
                    {"--tensorrt-header", "tensorrt"},
                    {"--aimet-version", "aimet"}
                }) {
            if (spec.commandLine().getParseResult().hasMatchedOption(own[0])
                    && !format.equals(own[1])) {
                throw new UsageException(own[0] + " is an option of --format " + own[1] + " only");
            }
        }
        if (kafkaProperties.given() && bootstrapServers == null) {
            throw new UsageException("--kafka-properties goes with --bootstrap-servers only");
        }
        Properties client =
                bootstrapServers == null
                        ? null
                        : kafkaProperties.forClient(bootstrapServers, "qparams-export");
        try {
            ExportFormat exportFormat = Formats.of(format, tensorrtHeader, aimetVersion, model);
            TensorSelection selection = TensorSelection.of(match, rename);
            SortedMap<String, ExportEntry> latest;
            if (records != null) {
                latest = LatestRecords.fromFile(records);
            } else {
                latest = LatestRecords.fromTopic(client, topic, timeout, qparams.err());
            }
            List<ExportEntry> entries = selection.select(latest, qparams.err());
            if (entries.isEmpty()) {
                throw new UsageException(
                        "no tensor to export: "
                                + (latest.isEmpty()
                                        ? (records != null
                                                ? records + " holds no records"
                                                : "topic '" + topic + "' is empty")
                                        : "--match leaves none of " + latest.size() + " tensors"));
            }
            Exporter.export(exportFormat, entries, out, qparams.err());
            qparams.err()
                    .printf("export: %s: %d tensors written to %s%n", format, entries.size(), out);
            return QParams.EXIT_OK;
        } catch (ExportException e) {
            throw new UsageException(e.getMessage());
        } catch (IOException e) {
            // Nothing was written (Exporter removed its staging name): one line, as for a refusal.
            throw new UsageException("writing " + out + " failed: " + e);
        }
    }
}
