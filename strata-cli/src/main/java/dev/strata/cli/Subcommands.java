package dev.strata.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;
import java.util.Set;

/**
 * Every subcommand of {@code strata}, registered lazily. picocli builds its model of a command by reflection,
 * and doing that for every subcommand cost most of the CLI's start-up; a script that calls {@code strata exists}
 * in a loop only needs the one it names. Help, a missing or an unknown command get them all.
 */
final class Subcommands {
    /** Add a new subcommand here (its class must carry {@code @Command(name = ...)}). */
    static final List<Class<?>> ALL = List.of(
            DriversCommand.class, StatusCommand.class, LayersCommand.class,
            LayerCommands.Create.class, LayerCommands.CreateReadWrite.class, LayerCommands.Mount.class,
            LayerCommands.Unmount.class, LayerCommands.Remove.class, LayerCommands.Exists.class,
            LayerCommands.Metadata.class, DiffCommands.Changes.class, DiffCommands.DiffSize.class,
            DiffCommands.Diff.class, DiffCommands.Apply.class, CleanupCommand.class, ConformanceCommand.class,
            TrainCommand.class, PluginCommand.class, SnapshotterCommand.class);

    /** Top-level options that take a value, so that the value is not taken for the command's name. */
    private static final Set<String> OPTIONS_WITH_VALUE = Set.of("--root", "-s", "--storage-driver", "-o", "--storage-opt", "--config");

    private Subcommands() {
    }

    static void register(CommandLine cl, String[] args) {
        String word = commandWord(args);
        if (word != null) {
            for (Class<?> c : ALL) {
                if (names(c).contains(word)) {
                    cl.addSubcommand(instantiate(c));
                    return;
                }
            }
        }
        for (Class<?> c : ALL) cl.addSubcommand(instantiate(c));
    }

    /** The first argument that is not a top-level option or an option's value. */
    static String commandWord(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) return null;
            if (a.startsWith("-")) {
                if (OPTIONS_WITH_VALUE.contains(a)) i++; // "--root DIR"; "--root=DIR" and "-sDIR" carry their value
                continue;
            }
            return a;
        }
        return null;
    }

    private static List<String> names(Class<?> c) {
        Command cmd = c.getAnnotation(Command.class);
        return cmd == null ? List.of() : java.util.stream.Stream.concat(java.util.stream.Stream.of(cmd.name()),
                java.util.Arrays.stream(cmd.aliases())).toList();
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
