package io.qparams.cli;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * {@code bin/qparams}: dispatches to the subcommands. Exit status 0 on success; 1 when calibrate
 * refused some batches or the job failed; 2 for a bad command line, config or missing file.
 */
public final class QParams {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    private static final String USAGE = String.join("\n",
            "usage: qparams <command> [options]",
            "",
            "commands:",
            "  run        run the streaming job on Flink's embedded local executor",
            "             (without --bootstrap-servers it starts an embedded Kafka broker first)",
            "  calibrate  apply the same observers offline to NPY/JSON batch files",
            "",
            "'qparams <command> --help' describes each command's options.");

    private QParams() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? EXIT_USAGE : EXIT_OK;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (args[0]) {
                case "calibrate":
                    return CalibrateCommand.run(rest, out, err);
                case "run":
                    return RunCommand.run(rest, out, err);
                default:
                    throw new UsageException("unknown command '" + args[0] + "' (expected run or calibrate)");
            }
        } catch (UsageException e) {
            err.println("qparams " + args[0] + ": " + e.getMessage());
            return EXIT_USAGE;
        }
    }
}
