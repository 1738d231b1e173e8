package dev.strata.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code exists} and {@code layers}, the commands scripts call in loops, run without picocli when the line is
 * plain: global options, each once and before the command, then the command's own arguments. picocli builds its
 * model from the annotations, and the JDK makes a proxy class for every annotation type it reads (picocli's own and
 * those on {@code java.lang.Object}'s methods): that was about two thirds of what {@code strata exists} spent after
 * the JVM had started. Any other line (help, an option after the command, a repeated option, {@code @file}, a
 * typo) goes to picocli, which gives its usual answer or error. QuickLineTest checks that both give the same.
 */
final class QuickLine {
    private QuickLine() {
    }

    /** The exit code, or null when the line is not plain (picocli then runs it). */
    static Integer run(String[] args, PrintWriter out, PrintWriter err) {
        if (args.length == 3 && args[0].equals("__train-aot") && args[1].equals("--quick")) {
            try {
                return TrainCommand.trainQuick(Path.of(args[2]));
            } catch (java.io.IOException e) {
                return Main.failed(e, null, err);
            }
        }
        StrataCommand top = new StrataCommand();
        Set<String> seen = new HashSet<>();
        int i = 0;
        for (; i < args.length && args[i].startsWith("-"); i++) {
            String a = args[i], name = a, value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (name.equals(StrataCommand.JSON)) {
                if (value != null || !seen.add(name)) return null;
                top.json = true;
                continue;
            }
            if (value == null) {
                if (i + 1 == args.length || !plain(args[i + 1])) return null;
                value = args[++i];
            }
            switch (name) {
                case StrataCommand.ROOT -> top.root = Path.of(value);
                case StrataCommand.DRIVER, StrataCommand.DRIVER_LONG -> top.driver = value;
                case StrataCommand.CONFIG -> top.config = Path.of(value);
                case StrataCommand.STORAGE_OPT, StrataCommand.STORAGE_OPT_LONG -> top.storageOpts.add(value);
                default -> {
                    return null;
                }
            }
            boolean repeatable = name.equals(StrataCommand.STORAGE_OPT) || name.equals(StrataCommand.STORAGE_OPT_LONG);
            String canonical = name.equals(StrataCommand.DRIVER) ? StrataCommand.DRIVER_LONG : name;
            if (!repeatable && !seen.add(canonical)) return null; // picocli says it may be given once
        }
        if (i == args.length) return null;
        CliCommand command;
        String verb = args[i];
        if (verb.equals("exists") && i + 2 == args.length && plain(args[i + 1])) {
            LayerCommands.Exists exists = new LayerCommands.Exists();
            exists.id = args[i + 1];
            command = exists;
        } else if ((verb.equals("layers") || verb.equals("ls")) && i + 1 == args.length) {
            command = new LayersCommand();
            verb = "layers";
        } else {
            return null;
        }
        command.runDirectly(verb, top, out, err);
        try {
            return command.call();
        } catch (Exception e) {
            return Main.failed(e, command, err);
        }
    }

    /** An argument picocli takes as it is: not an option, not an {@code @file}. */
    private static boolean plain(String arg) {
        return !arg.startsWith("-") && !arg.startsWith("@");
    }
}
