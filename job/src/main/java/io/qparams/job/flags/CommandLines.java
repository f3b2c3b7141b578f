package io.qparams.job.flags;

import io.qparams.connectors.Reasons;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * What every qparams command line shares: how it parses, how its help looks, and how a mistake in
 * it reads (one line). {@code qparams} and its subcommands and the job's own {@code main} all go
 * through here.
 */
public final class CommandLines {
    /**
     * Help is laid out for this many columns, whatever the terminal: docs/cli.md is the same help,
     * byte for byte.
     */
    public static final int USAGE_WIDTH = 100;

    private CommandLines() {}

    /**
     * Applies the shared settings to a command line and all its subcommands (call it once they are
     * added). A repeated flag takes its last value, as the flags always did (scripts add a default
     * in front of the user's flags); a flag's value never starts with {@code -} unless it is a
     * number, so {@code --config --delivery exactly-once} is refused rather than read as a file
     * named {@code --delivery}. Help is plain text: no colours, no terminal width detection.
     */
    public static CommandLine configure(CommandLine cli) {
        return cli.setOverwrittenOptionsAllowed(true)
                .setUnmatchedOptionsAllowedAsOptionParameters(false)
                .setUsageHelpAutoWidth(false)
                .setUsageHelpWidth(USAGE_WIDTH)
                .setColorScheme(Help.defaultColorScheme(Help.Ansi.OFF));
    }

    /** What is wrong with a command line, in one line (without the command's name). */
    public static String reason(ParameterException e) {
        CommandLine cli = e.getCommandLine();
        String seeHelp = " (see " + cli.getCommandSpec().qualifiedName() + " --help)";
        if (e instanceof MissingParameterException missing
                && !missing.getMissing().isEmpty()
                && missing.getMissing().get(0) instanceof OptionSpec option) {
            return option.longestName() + " needs a value";
        }
        if (e instanceof UnmatchedArgumentException unmatched
                && !unmatched.getUnmatched().isEmpty()) {
            String argument = unmatched.getUnmatched().get(0);
            String what =
                    argument.startsWith("-")
                            ? "unknown option"
                            : cli.getSubcommands().isEmpty()
                                    ? "unexpected argument"
                                    : "unknown command";
            return Reasons.oneLine(what + " '" + argument + "'" + seeHelp);
        }
        if (e.getCause() instanceof TypeConversionException badValue
                && e.getArgSpec() instanceof OptionSpec option) {
            return Reasons.oneLine(option.longestName() + " " + badValue.getMessage());
        }
        return Reasons.oneLine(e.getMessage());
    }
}
