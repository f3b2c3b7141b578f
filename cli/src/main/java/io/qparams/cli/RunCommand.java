package io.qparams.cli;

import io.qparams.connectors.Reasons;
import io.qparams.embeddedkafka.EmbeddedKafka;
import io.qparams.job.JobOptions;
import io.qparams.job.QParamsJob;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code qparams run}: the streaming job on Flink's embedded local executor. Without
 * {@code --bootstrap-servers} it first starts a real Kafka broker in this JVM. {@code --demo}
 * streams synthetic activations of a small model into the input topic; {@code --print} follows
 * the qparams topic on stdout (on by default with the embedded broker).
 */
final class RunCommand {
    private static final String USAGE = String.join("\n",
            "usage: qparams run [job options] [--demo] [--print summary|json|none] [--max-records N]",
            "",
            "job options (the same flags `flink run qparams-job.jar` takes):",
            "  --bootstrap-servers HOST:PORT   Kafka; without it an embedded broker starts on 127.0.0.1",
            "  --config FILE                   observer rules (YAML); default: conf/observers.yaml with --demo,",
            "                                  else MovingAverageMinMaxObserver with torch's defaults for every tensor",
            "  --input-topic T                 activation batches            (default activations)",
            "  --output-topic T                qparams records               (default qparams)",
            "  --dlq-topic T                   dead letters                  (default activations.dlq)",
            "  --control-topic T               {\"op\": \"reset\"} messages      (default qparams.control)",
            "  --group-id G                    consumer group                (default qparams)",
            "  --parallelism N                 default: the number of cores",
            "  --checkpoint-interval DURATION  e.g. 10s, 500ms, 1min          (default 10s)",
            "  --delivery at-least-once|exactly-once                         (default at-least-once)",
            "  --starting-offsets committed|earliest|latest                  (default committed, else earliest)",
            "  --state-backend hashmap|rocksdb                               (default hashmap)",
            "  --max-batch-bytes SIZE          larger values go to the DLQ   (default 15mb)",
            "",
            "local options:",
            "  --demo                a producer streams a small model's activations (a few dozen tensors)",
            "  --demo-step-ms MS     pause between the demo's rounds of batches (default 500)",
            "  --print MODE          follow the output topic on stdout: summary (default with the embedded broker",
            "                        or --demo), json (the records as they are), none (default otherwise)",
            "  --max-records N       stop after printing N records (default: run until Ctrl-C)");

    private RunCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws UsageException {
        boolean demo = false;
        long demoStepMillis = 500;
        String print = null;
        long maxRecords = 0;
        List<String> jobArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help":
                case "-h":
                    out.println(USAGE);
                    return QParams.EXIT_OK;
                case "--demo":
                    demo = true;
                    break;
                case "--demo-step-ms":
                    demoStepMillis = positiveLong(args, ++i, "--demo-step-ms");
                    break;
                case "--print":
                    print = i + 1 < args.length ? args[++i] : "";
                    if (!List.of("summary", "json", "none").contains(print)) {
                        throw new UsageException("--print takes summary, json or none (got '" + print + "')");
                    }
                    break;
                case "--max-records":
                    maxRecords = positiveLong(args, ++i, "--max-records");
                    break;
                default:
                    jobArgs.add(args[i]);
            }
        }
        JobOptions options;
        try {
            options = JobOptions.parse(jobArgs.toArray(String[]::new));
            if (demo && options.config() == null) {
                jobArgs.addAll(List.of("--config", demoConfig().toString()));
                options = JobOptions.parse(jobArgs.toArray(String[]::new));
            }
            options.observerConfig(); // parse and validate the config before anything starts
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (print == null) {
            print = demo || !options.bootstrapServersGiven() ? "summary" : "none";
        }
        try {
            return runJob(options, demo, demoStepMillis, print, maxRecords, out, err);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private static int runJob(JobOptions options, boolean demo, long demoStepMillis, String print, long maxRecords,
            PrintStream out, PrintStream err) {
        LocalRun local = new LocalRun();
        Runtime.getRuntime().addShutdownHook(new Thread(local::stop, "qparams-shutdown"));
        try {
            if (!options.bootstrapServersGiven()) {
                err.println("qparams: starting an embedded Kafka broker ...");
                local.broker = EmbeddedKafka.start();
                options = options.withBootstrapServers(local.broker.bootstrapServers());
                err.println("qparams: embedded Kafka broker at " + local.broker.bootstrapServers());
            }
            local.job = QParamsJob.start(StreamExecutionEnvironment.getExecutionEnvironment(), options);
            err.println("qparams: job " + local.job.getJobID() + " running on Flink's local executor: "
                    + options.inputTopic() + " -> " + options.outputTopic() + " (dead letters: " + options.dlqTopic()
                    + ", control: " + options.controlTopic() + ")");
            CountDownLatch printerDone = new CountDownLatch(1);
            if (!print.equals("none")) {
                boolean fromStart = local.broker != null; // a fresh embedded broker: show everything
                local.printer = new QParamsPrinter(options.bootstrapServers(), options.outputTopic(),
                        print.equals("json"), maxRecords, fromStart, out, printerDone::countDown);
                local.threads.add(start("qparams-printer", local.printer));
                err.println("qparams: printing records of topic " + options.outputTopic()
                        + (maxRecords > 0 ? " (stopping after " + maxRecords + ")" : " (Ctrl-C to stop)"));
            }
            if (demo) {
                local.producer = new DemoProducer(options.bootstrapServers(), options.inputTopic(), demoStepMillis,
                        Long.MAX_VALUE);
                local.threads.add(start("qparams-demo-producer", local.producer));
                err.println("qparams: demo producer: " + local.producer.tensorCount()
                        + " tensors, one NPY batch each every " + demoStepMillis + " ms into " + options.inputTopic());
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

    /** What a local run started, stopped in reverse order: producer and printer, the job, the broker. */
    private static final class LocalRun {
        final List<Thread> threads = new ArrayList<>();
        volatile EmbeddedKafka broker;
        volatile JobClient job;
        volatile QParamsPrinter printer;
        volatile DemoProducer producer;
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
            throw new UsageException("--demo without --config needs conf/observers.yaml (not found at " + config + ")");
        }
        return config;
    }

    private static long positiveLong(String[] args, int i, String option) throws UsageException {
        try {
            long value = Long.parseLong(i < args.length ? args[i] : "");
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // fall through to the one-line reason
        }
        throw new UsageException(option + " takes a positive whole number");
    }

    /** The root cause names what went wrong (a broker that cannot be reached, say); the wrappers add nothing. */
    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return Reasons.oneLine(root.getClass().getSimpleName() + ": " + root.getMessage());
    }
}
