package dev.strata.cli;

import dev.strata.api.CreateOptions;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The layer lifecycle commands: create, create-rw, mount, unmount, remove, exists, metadata. */
final class LayerCommands {
    private LayerCommands() {
    }

    /** A command about one layer, named by its first argument; errors name that layer. */
    abstract static class LayerCommand extends CliCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "Layer id.")
        String id;

        @Override
        protected String subject() {
            return id;
        }

        /** The same answer from every driver: an id that cannot name a layer is a usage error, even for exists. */
        @Override
        protected void check() {
            LayerIds.check(verb(), id);
        }
    }

    abstract static class CreateCommand extends LayerCommand {
        @Option(names = {"-p", "--parent"}, paramLabel = "PARENT", description = "Parent layer.")
        String parent;
        @Option(names = "--layer-opt", paramLabel = "KEY=VALUE", description = "Per-layer option, e.g. size=10G (read-write layers).")
        List<String> layerOpts = List.of();
        @Option(names = "--mount-label", paramLabel = "LABEL", description = "SELinux mount label.")
        String mountLabel;

        abstract void create(StorageDriver d, CreateOptions options);

        @Override
        protected int run() {
            Map<String, String> m = new TreeMap<>();
            for (String kv : layerOpts) {
                int eq = kv.indexOf('=');
                if (eq <= 0) throw new UsageException("--layer-opt must be KEY=VALUE, got \"" + kv + "\"");
                m.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            StorageDriver d = driver();
            try {
                create(d, new CreateOptions(mountLabel, m));
            } catch (StorageException e) {
                throw LayerOptions.inCliWords(e, m.keySet());
            }
            emit(Output.fields("id", id, "parent", parent, "readWrite", this instanceof CreateReadWrite), () -> { });
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "create", description = "Create a read-only (image) layer.")
    static final class Create extends CreateCommand {
        @Override
        void create(StorageDriver d, CreateOptions options) {
            d.create(id, parent, options);
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "create-rw", description = "Create a read-write (container) layer.")
    static final class CreateReadWrite extends CreateCommand {
        @Override
        void create(StorageDriver d, CreateOptions options) {
            d.createReadWrite(id, parent, options);
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "mount", description = "Mount a layer (take a reference) and print its root directory.")
    static final class Mount extends LayerCommand {
        @Option(names = "--mount-label", paramLabel = "LABEL", description = "SELinux mount label.")
        String mountLabel;

        @Override
        protected int run() {
            Path p = driver().get(id, mountLabel);
            emit(Output.fields("id", id, "dir", p.toString()), () -> out().println(p));
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "unmount", aliases = "umount", description = "Release a reference taken by mount; the last one unmounts.")
    static final class Unmount extends LayerCommand {
        @Override
        protected int run() {
            StorageDriver d = driver();
            // Every driver answers the same: releasing a layer that does not exist is an error (moby's vfs says nothing).
            if (!d.exists(id)) throw new LayerUnknownException("put", id);
            d.put(id);
            int left = d.references(id);
            emit(Output.fields("id", id, "mounts", left), () -> { });
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "remove", aliases = "rm", description = "Remove a layer, unmounting it first; a layer with children stays.")
    static final class Remove extends LayerCommand {
        @Override
        protected int run() {
            driver().remove(id);
            emit(Output.fields("id", id, "removed", true), () -> { });
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "exists",
            description = "Answer by exit code: 0 if the layer exists, 1 if not, 3 if that cannot be told (2: usage).")
    static final class Exists extends LayerCommand {
        @Override
        protected int run() {
            boolean e = driver().exists(id);
            emit(Output.fields("id", id, "exists", e), () -> { });
            return e ? Main.OK : Main.FAILED;
        }

        @Override
        protected int failureCode() {
            return Main.CANNOT_TELL;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "metadata", description = "Show driver-specific facts about a layer (UpperDir, DeviceName, ...).")
    static final class Metadata extends LayerCommand {
        @Override
        protected int run() {
            Map<String, String> m = new LinkedHashMap<>(new TreeMap<>(driver().metadata(id)));
            emit(Output.fields("id", id, "metadata", m), () -> m.forEach((k, v) -> out().println(k + "=" + v)));
            return Main.OK;
        }
    }
}
