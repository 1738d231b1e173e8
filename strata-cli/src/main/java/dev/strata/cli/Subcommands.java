package dev.strata.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every subcommand of {@code strata}, registered lazily. picocli builds its model of a command by reflection,
 * and doing that for every subcommand cost most of the CLI's start-up; a script that calls {@code strata exists}
 * in a loop only needs the one it names. Help, a missing command, completion and man pages get them all.
 */
final class Subcommands {
    /** Add a new subcommand here: a {@link CliCommand} (or a group of them) with {@code @Command(name = ...)}. */
    static final List<Class<?>> ALL = List.of(
            DriversCommand.class, StatusCommand.class, LayersCommand.class, DuCommand.class,
            LayerCommands.Create.class, LayerCommands.CreateReadWrite.class, LayerCommands.Mount.class,
            LayerCommands.Unmount.class, LayerCommands.Remove.class, LayerCommands.Exists.class,
            LayerCommands.Metadata.class, DiffCommands.Changes.class, DiffCommands.DiffSize.class,
            DiffCommands.Diff.class, DiffCommands.Apply.class, CleanupCommand.class, ConformanceCommand.class,
            PluginCommand.class, SnapshotterCommand.class, BenchCommand.class, TrainCommand.class);

    private Subcommands() {
    }

    /** Registers the one command {@code word} names, or all of them (help, no command, an unknown word). */
    static void register(CommandLine cl, String word) {
        if (word != null && !word.equals("help")) {
            for (Class<?> c : ALL) {
                if (names(c).contains(word)) {
                    cl.addSubcommand(instantiate(c));
                    return;
                }
            }
        }
        all(cl);
    }

    static void all(CommandLine cl) {
        for (Class<?> c : ALL) cl.addSubcommand(instantiate(c));
        cl.addSubcommand("help", new CommandLine.HelpCommand());
    }

    /** Whether {@code word} names a command (or its alias, or help). */
    static boolean isCommand(String word) {
        return word.equals("help") || ALL.stream().anyMatch(c -> names(c).contains(word));
    }

    /** The visible command names, for an unknown command's error. */
    static List<String> names() {
        List<String> n = new ArrayList<>();
        for (Class<?> c : ALL) {
            Command cmd = c.getAnnotation(Command.class);
            if (!cmd.hidden()) n.add(cmd.name());
        }
        n.add("help");
        return n;
    }

    /** The first argument that is not a top-level option or an option's value. */
    static String commandWord(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) return null;
            if (a.startsWith("-")) {
                if (StrataCommand.OPTIONS_WITH_VALUE.contains(a)) i++; // its value is not the command: "--root DIR"; "--root=DIR" and "-sDIR" carry their value
                continue;
            }
            return a;
        }
        return null;
    }

    private static List<String> names(Class<?> c) {
        Command cmd = c.getAnnotation(Command.class);
        return cmd == null ? List.of() : Stream.concat(Stream.of(cmd.name()), Arrays.stream(cmd.aliases())).toList();
    }

    private static Object instantiate(Class<?> c) {
        try {
            var ctor = c.getDeclaredConstructor();
            ctor.setAccessible(true);
            return ctor.newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make subcommand " + c.getName(), e);
        }
    }
}
