package dev.strata.cli;

import dev.strata.api.DriverProvider;
import dev.strata.api.StorageDriver;
import dev.strata.snapshotter.Snapshotter;
import dev.strata.snapshotter.SnapshotterServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** {@code strata snapshotter serve}: Strata as a containerd proxy snapshotter. */
@Command(name = "snapshotter", mixinStandardHelpOptions = true,
        description = "Serve a driver to containerd as a snapshotter (proxy_plugins).",
        subcommands = SnapshotterCommand.Serve.class)
final class SnapshotterCommand {

    @Command(name = "serve", mixinStandardHelpOptions = true, description = {
            "Serve containerd's snapshots API (gRPC) on a UNIX socket until SIGTERM.",
            "Layers live in <root>/<driver>, as for every strata command; the snapshots (keys, kinds, parents, labels)"
                    + " in <root>/snapshots/<driver>. Register the socket in containerd's config.toml as"
                    + " [proxy_plugins.strata] type = \"snapshot\", address = <socket>; containerd 2.x: also"
                    + " capabilities = [\"remap-ids\"] for user namespaces without a chown copy, where the start-up log"
                    + " says the driver honours them."})
    static final class Serve extends ServeCommand {
        @Option(names = "--debug", description = "Log every call with its outcome and time.")
        boolean debug;

        Serve() {
            super(SnapshotterServer.DEFAULT_SOCKET);
        }

        @Override
        protected int run() throws Exception {
            configureLogging("snapshotter", "dev.strata.snapshotter", debug);
            Session session = session();
            DriverProvider provider = session.selection().provider();
            List<String> options = session.options(); // the config file's storage-opts, then -o
            Path root = session.root();
            StorageDriver driver = session.registry().open(provider, root, options);
            Snapshotter snapshotter;
            try {
                snapshotter = Snapshotter.open(driver, root.resolve("snapshots").resolve(provider.name()));
            } catch (RuntimeException e) {
                driver.close();
                throw e;
            }
            SnapshotterServer.serve(socket, snapshotter, STOP_GRACE);
            return Main.OK;
        }
    }
}
