package io.qparams.job.flags;

import picocli.CommandLine.Option;

/**
 * {@code -h}/{@code --help} for every command (picocli's standard options would add a --version we
 * do not have).
 */
public final class HelpOption {
    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "Show this help and exit.")
    private boolean help;
}
