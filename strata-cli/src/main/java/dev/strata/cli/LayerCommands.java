package dev.strata.cli;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** The layer lifecycle commands: create, create-rw, mount, unmount, remove, exists, metadata. */
final class LayerCommands {
    private LayerCommands() {
    }

    abstract static class LayerCommand implements Callable<Integer> {
        @ParentCommand
        StrataCommand top;
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "ID", description = "Layer id.")
        String id;

        StorageDriver driver() {
            return top.session().driver();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }
    }

    abstract static class CreateCommand extends LayerCommand {
        @Option(names = {"-p", "--parent"}, description = "Parent layer.")
        String parent;
        @Option(names = "--layer-opt", paramLabel = "KEY=VALUE", description = "Per-layer option, e.g. size=10G (read-write layers).")
        List<String> layerOpts = List.of();
        @Option(names = "--mount-label", description = "SELinux mount label.")
        String mountLabel;

        CreateOptions options() {
            Map<String, String> m = new TreeMap<>();
            for (String kv : layerOpts) {
                int eq = kv.indexOf('=');
                if (eq <= 0) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--layer-opt must be KEY=VALUE, got \"" + kv + "\"");
                m.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            return new CreateOptions(mountLabel, m);
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "create", description = "Create a read-only (image) layer.")
    static final class Create extends CreateCommand {
        @Override
        public Integer call() {
            driver().create(id, parent, options());
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "create-rw", description = "Create a read-write (container) layer.")
    static final class CreateReadWrite extends CreateCommand {
        @Override
        public Integer call() {
            driver().createReadWrite(id, parent, options());
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "mount", description = "Mount a layer (take a reference) and print its root directory.")
    static final class Mount extends LayerCommand {
        @Option(names = "--mount-label", description = "SELinux mount label.")
        String mountLabel;

        @Override
        public Integer call() {
            Path p = driver().get(id, mountLabel);
            if (top.session().json()) Output.json(out(), Output.fields("id", id, "dir", p.toString()));
            else out().println(p);
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "unmount", aliases = "umount", description = "Release a reference taken by mount; the last one unmounts.")
    static final class Unmount extends LayerCommand {
        @Override
        public Integer call() {
            driver().put(id);
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "remove", aliases = "rm", description = "Remove a layer, unmounting it first.")
    static final class Remove extends LayerCommand {
        @Override
        public Integer call() {
            driver().remove(id);
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "exists",
            description = "Answer by exit code: 0 if the layer exists, 1 if not, " + Main.CANNOT_ANSWER + " if that cannot be told (an error).")
    static final class Exists extends LayerCommand {
        @Override
        public Integer call() {
            boolean e;
            try {
                e = driver().exists(id);
            } catch (RuntimeException error) { // not a "no": 0 and 1 are the answers
                spec.commandLine().getErr().println("strata: " + Main.oneLine(error));
                return Main.CANNOT_ANSWER;
            }
            if (top.session().json()) Output.json(out(), Output.fields("id", id, "exists", e));
            return e ? Main.OK : Main.FAILED;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "metadata", description = "Show driver-specific facts about a layer (UpperDir, DeviceName, ...).")
    static final class Metadata extends LayerCommand {
        @Override
        public Integer call() {
            Map<String, String> m = new LinkedHashMap<>(new TreeMap<>(driver().metadata(id)));
            if (top.session().json()) Output.json(out(), m);
            else m.forEach((k, v) -> out().println(k + "=" + v));
            return Main.OK;
        }
    }
}
