package io.qparams.cli;

import java.io.PrintStream;

/** {@code qparams run}: placeholder until the streaming job lands. */
final class RunCommand {
    private RunCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws UsageException {
        throw new UsageException("the streaming job is not built yet");
    }
}
