package dev.strata.cli;

import dev.strata.api.StorageDriver;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * Base of every {@code strata} command. A new command extends this, carries {@code @Command(name = ...)}, is
 * listed in {@link Subcommands#ALL} and implements {@link #run()}; it then gets, without more work:
 * <ul>
 *   <li>the global options ({@code --root}, {@code -s}, {@code -o}, {@code --config}, {@code --json}) through
 *   {@link #session()} and {@link #json()};</li>
 *   <li>errors as one line, {@code strata: VERB ID: cause}, where VERB is its command name and ID its
 *   {@link #subject()}; exit 1 on failure and 2 on usage or config errors ({@link ErrorText});</li>
 *   <li>output through {@link #emit}: a JSON value under {@code --json}, text otherwise.</li>
 * </ul>
 */
public abstract class CliCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    /** Set instead of {@link #spec} when {@link QuickLine} runs the command without picocli. */
    private Direct direct;

    private record Direct(String verb, StrataCommand top, PrintWriter out, PrintWriter err) {
    }

    /** Runs as {@code verb} with these global options and streams, without picocli's model ({@link QuickLine}). */
    final void runDirectly(String verb, StrataCommand top, PrintWriter out, PrintWriter err) {
        direct = new Direct(verb, top, out, err);
    }

    /** Does the command's work and returns its exit code; throws to fail (translated by {@link ErrorText}). */
    protected abstract int run() throws Exception;

    /** Checks the arguments before anything is opened; throws a usage error (exit 2). */
    protected void check() {
    }

    @Override
    public final Integer call() throws Exception {
        check();
        return run();
    }

    /** The layer (or other thing) the command acts on, named in its errors; null when none. */
    protected String subject() {
        return null;
    }

    /** The exit code of a failure: {@link Main#FAILED}, except where 1 already means an answer. */
    protected int failureCode() {
        return Main.FAILED;
    }

    /** The command's name as the user typed it, e.g. {@code create-rw} or {@code plugin serve}. */
    final String verb() {
        return direct != null ? direct.verb() : verb(spec);
    }

    static String verb(CommandSpec spec) {
        String q = spec.qualifiedName(" ");
        String top = spec.root().name();
        return q.equals(top) ? "" : q.substring(top.length() + 1);
    }

    final StrataCommand top() {
        return direct != null ? direct.top() : (StrataCommand) spec.root().userObject();
    }

    final Session session() {
        return top().session();
    }

    final StorageDriver driver() {
        return session().driver();
    }

    final boolean json() {
        return top().json;
    }

    final PrintWriter out() {
        return direct != null ? direct.out() : spec.commandLine().getOut();
    }

    final PrintWriter err() {
        return direct != null ? direct.err() : spec.commandLine().getErr();
    }

    /** Prints {@code value} as JSON under {@code --json}, else runs {@code text} (which may print nothing). */
    final void emit(Object value, Runnable text) {
        if (json()) Output.json(out(), value);
        else text.run();
    }
}
