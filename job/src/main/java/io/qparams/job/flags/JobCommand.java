package io.qparams.job.flags;

import io.qparams.job.JobOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParameterException;

import java.io.PrintStream;
import java.util.Optional;

/**
 * The job's command line, as {@code flink run qparams-job.jar [flags]} hands it to the job's main.
 */
@Command(
        name = "flink run qparams-job.jar",
        sortOptions = false,
        sortSynopsis = false,
        description = {
            "The qparams job on a Flink cluster: reads activation batches from Kafka, keeps a"
                + " PyTorch-exact observer per tensor in keyed state, and writes one qparams record"
                + " per batch. Its main reads --config and creates the missing topics on the"
                + " machine that runs flink run, then submits the job.",
            ""
        })
public final class JobCommand {
    @Mixin private JobFlags flags;

    @Mixin private HelpOption help;

    /** The command line with the shared settings, for parsing and for the docs. */
    public static CommandLine commandLine() {
        return CommandLines.configure(new CommandLine(new JobCommand()));
    }

    /**
     * Parses the job's flags.
     *
     * @return the options, or empty when {@code --help} was asked (the help went to {@code out})
     * @throws IllegalArgumentException with a one-line reason for a bad command line
     */
    public static Optional<JobOptions> parse(String[] args, PrintStream out) {
        CommandLine cli = commandLine();
        try {
            cli.parseArgs(args);
            if (cli.isUsageHelpRequested()) {
                cli.usage(out);
                return Optional.empty();
            }
            return Optional.of(cli.<JobCommand>getCommand().flags.options());
        } catch (ParameterException e) {
            throw new IllegalArgumentException(CommandLines.reason(e), e);
        }
    }
}
