package dev.strata.cli;

import dev.strata.api.StorageException;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Entry point of the {@code strata} command. Exit codes: 0 ok, 1 the operation failed, 2 usage, 3 {@code exists}
 * could not tell. An error is one line on stderr that names the layer and the cause.
 */
public final class Main {
    public static final int OK = 0, FAILED = 1, USAGE = 2;
    /** {@code exists} keeps 0 and 1 for yes and no; an error there is neither. */
    public static final int CANNOT_ANSWER = 3;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line; used by tests too. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine(args);
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine(String[] args) {
        CommandLine cl = new CommandLine(new StrataCommand());
        Subcommands.register(cl, args);
        cl.setExitCodeExceptionMapper(t -> FAILED);
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            line.getErr().println("strata: " + oneLine(ex));
            if (System.getenv("STRATA_DEBUG") != null) ex.printStackTrace(line.getErr());
            return FAILED;
        });
        cl.setParameterExceptionHandler((ex, badArgs) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("strata: " + ex.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            return USAGE;
        });
        return cl;
    }

    /** The cause as one line: typed storage errors already name operation, subject and errno. */
    static String oneLine(Throwable t) {
        Throwable e = t;
        while (!(e instanceof StorageException) && e.getCause() != null && e.getCause() != e) e = e.getCause();
        String msg = e instanceof StorageException ? e.getMessage() : t.toString();
        return msg.replace('\n', ' ');
    }
}
