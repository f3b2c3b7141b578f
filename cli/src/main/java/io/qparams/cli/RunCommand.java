package io.qparams.cli;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import io.qparams.connectors.Reasons;
import io.qparams.embeddedkafka.EmbeddedKafka;
import io.qparams.job.JobOptions;
import io.qparams.job.QParamsJob;
import io.qparams.job.flags.FlagConverters;
import io.qparams.job.flags.HelpOption;
import io.qparams.job.flags.JobFlags;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * {@code qparams run}: the streaming job on Flink's embedded local executor. Without {@code
 * --bootstrap-servers} it first starts a real Kafka broker in this JVM. {@code --demo} streams
 * synthetic activations of a small model into the input topic; {@code --print} follows the qparams
 * topic on stdout (on by default with the embedded broker).
 */
@Command(
        name = "run",
        sortOptions = false,
        sortSynopsis = false,
        header = "Run the streaming job on Flink's embedded local executor.",
        description = {
            "Runs the streaming job on Flink's embedded local executor, with the flags flink run"
                + " qparams-job.jar takes. Without --bootstrap-servers it first starts a Kafka"
                + " broker in this JVM on 127.0.0.1 and creates the topics. Runs until Ctrl-C (or"
                + " --max-records).",
            ""
        })
final class RunCommand implements Callable<Integer> {
    /** How {@code --print} shows the output topic on stdout. */
    enum PrintMode {
        /** One short line per record, per-channel vectors cut to their first entries. */
        SUMMARY,
        /** The records as the topic holds them. */
        JSON,
        NONE
    }

    static final class PrintModeFlag extends FlagConverters.EnumFlag<PrintMode> {
        PrintModeFlag() {
            super(PrintMode.class);
        }
    }

    @ParentCommand private QParams qparams;

    @Mixin private JobFlags jobFlags;

    @Option(
            names = "--demo",
            description =
                    "A producer streams a small ResNet-like model's activations (29 tensors, "
                            + "NPY) into the input topic (default: off).")
    private boolean demo;

    @Option(
            names = "--demo-step-ms",
            paramLabel = "MS",
            converter = FlagConverters.PositiveLong.class,
            defaultValue = "500",
            description = "Pause between the demo's rounds of batches (default: ${DEFAULT-VALUE}).")
    private long demoStepMillis;

    @Option(
            names = "--print",
            paramLabel = "summary|json|none",
            converter = PrintModeFlag.class,
            description =
                    "Follow the output topic on stdout: a summary line per record, the records as"
                        + " JSON, or nothing (default: summary with the embedded broker or --demo,"
                        + " else none).")
    private PrintMode print;

    @Option(
            names = "--max-records",
            paramLabel = "N",
            converter = FlagConverters.PositiveLong.class,
            description = "Stop after printing N records (default: run until Ctrl-C).")
    private long maxRecords;

    @Mixin private HelpOption help;

    @Override
    public Integer call() throws UsageException {
        JobOptions options = jobFlags.options();
        if (demo && options.config() == null) {
            options = options.withConfig(demoConfig());
        }
        PrintMode mode =
                print != null
                        ? print
                        : demo || !options.bootstrapServersGiven()
                                ? PrintMode.SUMMARY
                                : PrintMode.NONE;
        if (maxRecords > 0 && mode == PrintMode.NONE) {
            throw new UsageException(
                    "--max-records counts the records it prints: give --print summary or json with"
                            + " it (with --print none it would never stop)");
        }
        try {
            options.observerConfig(); // parse and validate the config before anything starts
            return runJob(options, mode, qparams.out(), qparams.err());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private int runJob(JobOptions options, PrintMode mode, PrintStream out, PrintStream err) {
        LocalRun local = new LocalRun();
        Runtime.getRuntime().addShutdownHook(new Thread(local::stop, "qparams-shutdown"));
        try {
            if (!options.bootstrapServersGiven()) {
                err.println("qparams: starting an embedded Kafka broker ...");
                local.broker = EmbeddedKafka.start();
                options = options.withBootstrapServers(local.broker.bootstrapServers());
                err.println("qparams: embedded Kafka broker at " + local.broker.bootstrapServers());
            }
            if (options.checkpointDir() == null) {
                // Flink's default keeps checkpoints in the JobManager's memory, 5 MiB per task:
                // a few hundred per-channel tensors exceed it, and every failed checkpoint
                // restarts the job. A local run cannot resume from its checkpoints after it ends.
                local.checkpoints = Files.createTempDirectory("qparams-checkpoints-");
                options = options.withCheckpointDir(local.checkpoints.toUri().toString());
            }
            // Prepares (checks Kafka, which may refuse in one line: then nothing else is said)
            // and submits.
            local.job =
                    QParamsJob.start(StreamExecutionEnvironment.getExecutionEnvironment(), options);
            if (local.checkpoints != null) {
                err.println(
                        "qparams: checkpoints in "
                                + local.checkpoints
                                + " (removed at exit; --checkpoint-dir to keep them)");
            }
            err.println(
                    "qparams: job "
                            + local.job.getJobID()
                            + " running on Flink's local executor: "
                            + options.inputTopic()
                            + " -> "
                            + options.outputTopic()
                            + " (dead letters: "
                            + options.dlqTopic()
                            + ", control: "
                            + options.controlTopic()
                            + ")");
            CountDownLatch printerDone = new CountDownLatch(1);
            if (mode != PrintMode.NONE) {
                boolean fromStart =
                        local.broker != null; // a fresh embedded broker: show everything
                local.printer =
                        new QParamsPrinter(
                                options.kafkaProperties().forClient(options.bootstrapServers()),
                                options.outputTopic(),
                                mode == PrintMode.JSON,
                                maxRecords,
                                fromStart,
                                out,
                                printerDone::countDown);
                local.threads.add(start("qparams-printer", local.printer));
                err.println(
                        "qparams: printing records of topic "
                                + options.outputTopic()
                                + (maxRecords > 0
                                        ? " (stopping after " + maxRecords + ")"
                                        : " (Ctrl-C to stop)"));
            }
            if (demo) {
                local.producer =
                        new DemoProducer(
                                options.kafkaProperties().forClient(options.bootstrapServers()),
                                options.inputTopic(),
                                demoStepMillis,
                                Long.MAX_VALUE);
                local.threads.add(start("qparams-demo-producer", local.producer));
                err.println(
                        "qparams: demo producer: "
                                + local.producer.tensorCount()
                                + " tensors, one NPY batch each every "
                                + demoStepMillis
                                + " ms into "
                                + options.inputTopic());
            }
            if (local.printer != null && maxRecords > 0) {
                printerDone.await();
            } else {
                local.job.getJobExecutionResult().get();
            }
            return QParams.EXIT_OK;
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return QParams.EXIT_OK;
        } catch (Exception e) {
            if (local.isStopping()) {
                return QParams.EXIT_OK; // Ctrl-C: the shutdown hook cancelled the job
            }
            err.println("qparams run: " + rootCause(e));
            return QParams.EXIT_FAILED;
        } finally {
            local.stop();
        }
    }

    /**
     * What a local run started, stopped in reverse order: producer and printer, the job, the
     * broker.
     */
    private static final class LocalRun {
        final List<Thread> threads = new ArrayList<>();
        volatile EmbeddedKafka broker;
        volatile JobClient job;
        volatile QParamsPrinter printer;
        volatile DemoProducer producer;
        volatile Path checkpoints;
        private volatile boolean stopped;

        boolean isStopping() {
            return stopped;
        }

        synchronized void stop() {
            if (stopped) {
                return;
            }
            stopped = true;
            if (producer != null) {
                producer.stop();
            }
            if (printer != null) {
                printer.stop();
            }
            for (Thread thread : threads) {
                try {
                    thread.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            try {
                if (job != null && !job.getJobStatus().get().isGloballyTerminalState()) {
                    job.cancel().get();
                    job.getJobExecutionResult().handle((result, failure) -> null).get();
                }
            } catch (Exception e) {
                // The job is already gone: nothing to cancel.
            }
            if (broker != null) {
                try {
                    broker.close();
                } catch (Exception e) {
                    // Best effort at exit; the broker's temporary folder goes with it when it can.
                }
            }
            if (checkpoints != null) {
                deleteTree(checkpoints);
            }
        }

        private static void deleteTree(Path root) {
            try (Stream<Path> paths = Files.walk(root)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException | UncheckedIOException e) {
                // Best effort at exit: a temporary folder left behind is harmless.
            }
        }
    }

    private static Thread start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** conf/observers.yaml of this checkout (bin/qparams sets qparams.home). */
    private static Path demoConfig() throws UsageException {
        Path config = Path.of(System.getProperty("qparams.home", "."), "conf", "observers.yaml");
        if (!Files.isRegularFile(config)) {
            throw new UsageException(
                    "--demo without --config needs conf/observers.yaml (not found at "
                            + config
                            + ")");
        }
        return config;
    }

    /**
     * The root cause names what went wrong (a broker that cannot be reached, say); the wrappers add
     * nothing.
     */
    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return Reasons.oneLine(root.getClass().getSimpleName() + ": " + root.getMessage());
    }
}
