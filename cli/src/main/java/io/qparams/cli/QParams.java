package io.qparams.cli;

import io.qparams.connectors.Reasons;
import io.qparams.job.flags.CommandLines;
import io.qparams.job.flags.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code bin/qparams}: the top-level command. Each subcommand is a class of its own (a picocli
 * {@code @Command} that is a {@code Callable<Integer>} returning the exit status, with
 * {@code @ParentCommand QParams} for the output streams); adding one is adding its class to {@code
 * subcommands} below, and docs/cli.md picks it up when regenerated.
 */
@Command(
        name = "qparams",
        sortOptions = false,
        sortSynopsis = false,
        subcommands = {
            RunCommand.class,
            CalibrateCommand.class,
            ExportCommand.class,
            TailCommand.class,
            PlotCommand.class,
            HelpCommand.class
        },
        description = {
            "Streaming quantization calibration: PyTorch-exact observers over Kafka activation"
                    + " batches (run), or over batch files (calibrate).",
            ""
        },
        footer = {
            "",
            "Exit status: 0 success; 1 calibrate refused some batches, or the job failed; 2 a bad"
                    + " command line, config or missing file (one line on stderr)."
        })
public final class QParams implements Callable<Integer> {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    private final PrintStream out;
    private final PrintStream err;

    @Spec private CommandSpec spec;

    @Mixin private HelpOption help;

    private QParams(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs one command line; stdout carries only records and help, everything else goes to stderr.
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        return commandLine(out, err).execute(args);
    }

    /**
     * The command line with its subcommands. A bad command line, config or file prints one line,
     * {@code qparams <command>: <reason>}, and exits 2, whether picocli finds the mistake or a
     * command does (by throwing a {@link UsageException}).
     */
    static CommandLine commandLine(PrintStream out, PrintStream err) {
        CommandLine cli = CommandLines.configure(new CommandLine(new QParams(out, err)));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setParameterExceptionHandler(
                (e, args) -> usageError(e.getCommandLine(), CommandLines.reason(e), err));
        cli.setExecutionExceptionHandler(
                (e, command, parsed) -> {
                    if (e instanceof UsageException) {
                        return usageError(command, e.getMessage(), err);
                    }
                    throw e;
                });
        return cli;
    }

    private static int usageError(CommandLine command, String reason, PrintStream err) {
        err.println(command.getCommandSpec().qualifiedName() + ": " + Reasons.oneLine(reason));
        return EXIT_USAGE;
    }

    /** No command given: the usage, on stderr, as for any other bad command line. */
    @Override
    public Integer call() {
        spec.commandLine().usage(err);
        return EXIT_USAGE;
    }

    PrintStream out() {
        return out;
    }

    PrintStream err() {
        return err;
    }
}
