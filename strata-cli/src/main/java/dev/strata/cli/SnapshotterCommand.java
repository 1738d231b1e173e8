package dev.strata.cli;

import dev.strata.api.DriverProvider;
import dev.strata.api.StorageDriver;
import dev.strata.snapshotter.Snapshotter;
import dev.strata.snapshotter.SnapshotterServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;

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
    static final class Serve extends CliCommand {
        /** Keeps the configured loggers from being collected (j.u.l holds them weakly). */
        private static final List<Logger> LOGGERS = new ArrayList<>();

        @Option(names = "--socket", paramLabel = "PATH", description = "Socket to serve on (default: ${DEFAULT-VALUE}).")
        Path socket = SnapshotterServer.DEFAULT_SOCKET;

        @Option(names = "--debug", description = "Log every call with its outcome and time.")
        boolean debug;

        @Override
        protected int run() throws Exception {
            configureLogging(debug);
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
            SnapshotterServer.serve(socket, snapshotter, Duration.ofSeconds(20));
            return Main.OK;
        }

        /** One line a record, fit for journald; Netty's warning about SO_KEEPALIVE on a UNIX socket is noise. */
        private static void configureLogging(boolean debug) {
            if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
                System.setProperty("java.util.logging.SimpleFormatter.format", "strata snapshotter: %4$s: %5$s%6$s%n");
            }
            Logger netty = Logger.getLogger("io.netty.bootstrap");
            netty.setLevel(Level.SEVERE);
            LOGGERS.add(netty);
            Logger own = Logger.getLogger("dev.strata.snapshotter");
            LOGGERS.add(own);
            if (debug) {
                own.setLevel(Level.FINE);
                ConsoleHandler handler = new ConsoleHandler();
                handler.setLevel(Level.FINE);
                own.addHandler(handler);
                own.setUseParentHandlers(false);
            }
        }
    }
}
