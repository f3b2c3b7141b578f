package io.qparams.cli;

import io.qparams.job.flags.JobCommand;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/cli.md is the help of every command, generated from the picocli declarations: this test
 * fails while the page differs from them, and regenerates it with {@code
 * -Dqparams.docs.regenerate=true}.
 */
class CliReferenceTest {
    static final Path PAGE =
            Path.of("..", "docs", "cli.md"); // surefire runs in the module's folder
    static final String REGENERATE =
            "mvn -B -pl cli -am test -Dtest=CliReferenceTest "
                    + "-Dsurefire.failIfNoSpecifiedTests=false -Dqparams.docs.regenerate=true";

    /** qparams, each of its subcommands (but picocli's help), and the job's own command line. */
    static List<CommandLine> commands() {
        PrintStream nowhere =
                new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
        CommandLine qparams = QParams.commandLine(nowhere, nowhere);
        List<CommandLine> commands = new ArrayList<>(List.of(qparams));
        qparams.getSubcommands().values().stream()
                .filter(command -> !(command.getCommand() instanceof CommandLine.HelpCommand))
                .forEach(commands::add);
        commands.add(JobCommand.commandLine());
        return commands;
    }

    static String page() {
        // A system property would override the help's fixed width: the page must not depend on who
        // runs this.
        System.clearProperty("picocli.usage.width");
        StringBuilder page = new StringBuilder();
        page.append("# Command-line reference\n\n")
                .append(
                        "The help of every command, as `--help` prints it. This page is generated"
                                + " from the commands' ")
                .append("picocli declarations (`io.qparams.cli.QParams` with its subcommands, and ")
                .append(
                        "`io.qparams.job.flags.JobCommand` with the job's flags, `JobFlags`); do"
                                + " not edit it by hand. ")
                .append(
                        "After changing a declaration, regenerate it from the repository's"
                                + " root:\n\n")
                .append("```bash\n")
                .append(REGENERATE)
                .append("\n```\n\n")
                .append(
                        "`CliReferenceTest` fails while this page differs from what the"
                                + " declarations generate.\n");
        for (CommandLine command : commands()) {
            page.append("\n## `")
                    .append(command.getCommandSpec().qualifiedName())
                    .append("`\n\n```text\n")
                    .append(command.getUsageMessage())
                    .append("```\n");
        }
        return page.toString();
    }

    @Test
    void docsCliMdIsWhatTheDeclarationsGenerate() throws IOException {
        String expected = page();
        if (Boolean.getBoolean("qparams.docs.regenerate")) {
            Files.writeString(PAGE, expected, StandardCharsets.UTF_8);
        }
        assertTrue(
                Files.isRegularFile(PAGE),
                PAGE.toAbsolutePath() + " is missing; generate it with: " + REGENERATE);
        assertEquals(
                expected,
                Files.readString(PAGE, StandardCharsets.UTF_8),
                "docs/cli.md differs from the picocli declarations; regenerate it with: "
                        + REGENERATE);
    }

    /**
     * What --help promises: every option says what it is for and what it is when not given (or, for
     * a required one, that it is).
     */
    @Test
    void everyOptionHasADescriptionWithItsDefault() {
        for (CommandLine command : commands()) {
            for (OptionSpec option : command.getCommandSpec().options()) {
                String where =
                        command.getCommandSpec().qualifiedName() + " " + option.longestName();
                String description = String.join(" ", option.description());
                assertFalse(description.isBlank(), where + " has no description");
                assertTrue(
                        option.usageHelp()
                                || description.contains("(default: ")
                                || (option.required() && description.contains("(required)")),
                        where + " names no default");
            }
        }
    }
}
