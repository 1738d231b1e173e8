package dev.strata.cli;

import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Entry point of the {@code strata} command. Exit codes (the README's table lists them): {@link #OK}, {@link #FAILED},
 * {@link #USAGE}; {@code exists} answers 0/1 and reports its own failures with {@link #CANNOT_TELL}. An error is one
 * line on stderr, {@code strata: VERB ID: cause}, made by {@link ErrorText} from whatever the command threw.
 */
public final class Main {
    /** The command did what was asked. */
    public static final int OK = 0;
    /** The operation failed; nothing was changed beyond what the error line says. */
    public static final int FAILED = 1;
    /** The command line or the config file is wrong (unknown command, option, driver or driver option). */
    public static final int USAGE = 2;
    /** {@code exists} could not tell (0 and 1 are its answers). */
    public static final int CANNOT_TELL = 3;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line; used by tests too. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Integer quick = QuickLine.run(args, out, err);
        return quick != null ? quick : runWithPicocli(args, out, err);
    }

    /** Runs one command line through picocli's model: every line {@link QuickLine} does not take. */
    static int runWithPicocli(String[] args, PrintWriter out, PrintWriter err) {
        String word = Subcommands.commandWord(args);
        if (word != null && !Subcommands.isCommand(word)) {
            err.println("strata: unknown command \"" + word + "\" (commands: " + String.join(", ", Subcommands.names()) + ")");
            err.println("Try 'strata help' for more information.");
            return USAGE;
        }
        CommandLine cl = commandLine(args);
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine(String[] args) {
        CommandLine cl = new CommandLine(new StrataCommand());
        Subcommands.register(cl, Subcommands.commandWord(args));
        cl.setUsageHelpWidth(100);
        cl.setExecutionExceptionHandler((ex, line, parse) ->
                failed(ex, line.getCommand() instanceof CliCommand c ? c : null, line.getErr()));
        cl.setParameterExceptionHandler((ex, badArgs) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("strata: " + verbOf(c) + ex.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            return USAGE;
        });
        return cl;
    }

    /** Prints what {@code command} (null: none) threw as one line, and returns the exit code. */
    static int failed(Exception ex, CliCommand command, PrintWriter err) {
        ErrorText.Report r = ErrorText.report(ex, command);
        err.println(r.line());
        if (System.getenv("STRATA_DEBUG") != null) ex.printStackTrace(err);
        if (r.usage()) return USAGE;
        return command != null ? command.failureCode() : FAILED;
    }

    private static String verbOf(CommandLine c) {
        String v = CliCommand.verb(c.getCommandSpec());
        return v.isEmpty() ? "" : v + ": ";
    }
}
