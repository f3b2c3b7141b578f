package io.qparams.cli;

import io.qparams.connectors.BatchPipeline;
import io.qparams.connectors.config.ObserverConfigLoader;
import io.qparams.connectors.records.RecordSource;
import io.qparams.job.flags.FlagConverters;
import io.qparams.job.flags.HelpOption;
import io.qparams.observers.BatchMinMax;
import io.qparams.observers.Drift;
import io.qparams.observers.InvalidBatchException;
import io.qparams.observers.InvalidObserverConfigException;
import io.qparams.observers.ObserverConfig;
import io.qparams.observers.ObserverState;
import picocli.CommandLine.Command;
import picocli.CommandLine.IParameterConsumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Stack;
import java.util.concurrent.Callable;

/**
 * {@code qparams calibrate}: the job's observers, offline, over batch files applied in the order
 * given, like the records of one partition. One qparams record per non-empty batch on stdout; a
 * refused batch prints its reason on stderr and the rest goes on.
 */
@Command(
        name = "calibrate",
        sortOptions = false,
        sortSynopsis = false,
        header = "Apply the same observers offline to NPY or JSON batch files.",
        description = {
            "Applies the job's observers offline to NPY or JSON batch files, in the order given, as"
                + " the job applies the records of one partition. Prints one qparams record (a JSON"
                + " line) per non-empty batch on stdout, with source = {\"file\": path, \"index\":"
                + " i}, i the batch's 0-based position in the input; a refused batch prints its"
                + " reason on stderr and the rest goes on.",
            ""
        },
        footer = {
            "",
            "Exit status: 0 every batch applied; 1 some batches refused (reasons on stderr); 2 a"
                    + " bad command line, config, manifest or a missing file (one line on stderr)."
        })
final class CalibrateCommand implements Callable<Integer> {
    private static final long PROGRESS_INTERVAL_NANOS = 5_000_000_000L;

    @ParentCommand private QParams qparams;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            converter = FlagConverters.PathFlag.class,
            description =
                    "Observer rules, YAML, see docs/config.md (default:"
                            + " MovingAverageMinMaxObserver with torch's defaults for every tensor,"
                            + " nonfinite: reject).")
    private Path config;

    @Option(
            names = "--tensor",
            paramLabel = "NAME FILE...",
            hideParamSyntax = true,
            parameterConsumer = TensorFiles.class,
            description =
                    "Apply the batch files (NPY or JSON) to tensor NAME, in the order given; repeat"
                        + " --tensor for more tensors, applied one after the other (default: none;"
                        + " give --tensor or --manifest).")
    private List<BatchFile> tensorFiles = new ArrayList<>();

    @Option(
            names = "--manifest",
            paramLabel = "FILE",
            converter = FlagConverters.PathFlag.class,
            description =
                    "JSON lines {\"tensor\": \"...\", \"file\": \"path\"}, paths relative to the"
                            + " manifest, applied in order, tensors interleaved (default: none; not"
                            + " with --tensor).")
    private Path manifest;

    @Mixin private HelpOption help;

    /** A batch file and the tensor it belongs to; display is the path as the user wrote it. */
    record BatchFile(String tensor, Path path, String display) {}

    /**
     * {@code --tensor NAME FILE...}: the name, then every argument up to the next option (one that
     * starts with {@code --}; a file may start with a single dash).
     */
    static final class TensorFiles implements IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, ArgSpec option, CommandSpec command) {
            if (args.isEmpty() || args.peek().startsWith("--")) {
                throw new ParameterException(command.commandLine(), "--tensor needs a value");
            }
            String tensor = args.pop();
            List<BatchFile> batches = option.getValue();
            int files = 0;
            while (!args.isEmpty() && !args.peek().startsWith("--")) {
                String file = args.pop();
                batches.add(new BatchFile(tensor, Path.of(file), file));
                files++;
            }
            if (files == 0) {
                throw new ParameterException(
                        command.commandLine(),
                        "--tensor " + tensor + " needs at least one batch file");
            }
        }
    }

    @Override
    public Integer call() throws UsageException {
        List<BatchFile> batches = tensorFiles;
        if (manifest != null && !batches.isEmpty()) {
            throw new UsageException("give either --tensor or --manifest, not both");
        }
        if (manifest != null) {
            batches = Manifest.read(manifest);
        }
        if (batches.isEmpty()) {
            throw new UsageException(
                    "nothing to calibrate: give --tensor NAME BATCH_FILE... or --manifest FILE");
        }
        for (BatchFile batch : batches) {
            if (!Files.isRegularFile(batch.path())) {
                throw new UsageException("batch file not found: " + batch.display());
            }
        }
        ObserverConfig observers = loadConfig(config);
        return calibrate(observers, batches, qparams.out(), qparams.err());
    }

    private static ObserverConfig loadConfig(Path config) throws UsageException {
        if (config == null) {
            return ObserverConfigLoader.defaults();
        }
        if (!Files.isRegularFile(config)) {
            throw new UsageException("config file not found: " + config);
        }
        try {
            return ObserverConfigLoader.load(config);
        } catch (InvalidObserverConfigException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private static int calibrate(
            ObserverConfig config, List<BatchFile> batches, PrintStream out, PrintStream err) {
        BatchPipeline pipeline = new BatchPipeline(config);
        Map<String, ObserverState> states = new HashMap<>();
        Map<String, Drift.MemoryHistory> histories = new HashMap<>();
        OutputStream records = new BufferedOutputStream(out, 1 << 16);
        int refused = 0;
        long lastProgress = System.nanoTime();
        try {
            for (int index = 0; index < batches.size(); index++) {
                BatchFile batch = batches.get(index);
                try {
                    byte[] record = apply(pipeline, states, histories, batch, index);
                    if (record != null) {
                        records.write(record);
                        records.write('\n');
                        byte[] event = pipeline.driftEvent();
                        if (event != null) {
                            records.flush();
                            err.println(
                                    "qparams calibrate: drift event: "
                                            + new String(event, StandardCharsets.UTF_8));
                        }
                    }
                } catch (InvalidBatchException e) {
                    refused++;
                    records.flush();
                    err.println(
                            "qparams calibrate: "
                                    + batch.display()
                                    + " (tensor "
                                    + batch.tensor()
                                    + ", index "
                                    + index
                                    + "): "
                                    + e.getMessage());
                }
                if (System.nanoTime() - lastProgress > PROGRESS_INTERVAL_NANOS) {
                    lastProgress = System.nanoTime();
                    err.printf(
                            Locale.ROOT,
                            "qparams calibrate: %d/%d batches%n",
                            index + 1,
                            batches.size());
                }
            }
            records.flush();
        } catch (IOException e) {
            err.println("qparams calibrate: cannot write records: " + e.getMessage());
            return QParams.EXIT_FAILED;
        }
        if (refused > 0) {
            err.printf(
                    Locale.ROOT,
                    "qparams calibrate: %d of %d batches refused%n",
                    refused,
                    batches.size());
            return QParams.EXIT_FAILED;
        }
        return QParams.EXIT_OK;
    }

    /**
     * One batch file through the pipeline, as the job applies a record of one partition; null for
     * an empty tensor (no record, as in torch).
     */
    private static byte[] apply(
            BatchPipeline pipeline,
            Map<String, ObserverState> states,
            Map<String, Drift.MemoryHistory> histories,
            BatchFile batch,
            int index)
            throws InvalidBatchException {
        int rule = pipeline.ruleFor(batch.tensor());
        byte[] value;
        try {
            value = Files.readAllBytes(batch.path());
        } catch (IOException e) {
            throw new InvalidBatchException(
                    "cannot read " + batch.display() + ": " + e.getMessage());
        }
        BatchMinMax minMax = pipeline.decode(rule, value, contentTypeOf(batch.path()));
        if (minMax == null) {
            return null;
        }
        ObserverState state =
                states.computeIfAbsent(batch.tensor(), t -> pipeline.initialState(rule));
        return pipeline.observe(
                batch.tensor(),
                rule,
                state,
                minMax,
                RecordSource.file(batch.display(), index),
                null,
                histories.computeIfAbsent(batch.tensor(), t -> new Drift.MemoryHistory()));
    }

    /**
     * The file extension stands in for the Kafka record's content-type header; otherwise the
     * decoder sniffs.
     */
    private static String contentTypeOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy")) {
            return "application/x-npy";
        }
        if (name.endsWith(".json")) {
            return "application/json";
        }
        return null;
    }
}
