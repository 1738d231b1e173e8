package dev.strata.cli;

import dev.strata.api.DriverRegistry;
import dev.strata.plugin.PluginServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** {@code strata plugin serve}: Strata as a Docker graphdriver plugin. */
@Command(name = "plugin", mixinStandardHelpOptions = true, description = "Serve a driver to dockerd as a graphdriver plugin.",
        subcommands = PluginCommand.Serve.class)
final class PluginCommand {

    @Command(name = "serve", mixinStandardHelpOptions = true, description = {
            "Serve the graphdriver plugin protocol on a UNIX socket until SIGTERM, which stops it through the"
                    + " driver's cleanup.",
            "dockerd finds /run/docker/plugins/<name>.sock as plugin <name>; run it with --experimental -s <name>."
                    + " The driver keeps its layers in <Home>/<driver>, where Home is <data-root>/<name>, sent by"
                    + " dockerd at Init; --root does not apply. dockerd's --storage-opt values follow -o."})
    static final class Serve extends ServeCommand {
        @Option(names = "--debug", description = "Log every request with its status and time.")
        boolean debug;

        Serve() {
            super(PluginServer.DEFAULT_SOCKET);
        }

        @Override
        protected int run() throws Exception {
            configureLogging("plugin", "dev.strata.plugin", debug);
            StrataCommand top = top();
            Session session = session();
            if (top.root != null) {
                err().println("strata plugin: --root is ignored: dockerd's Init decides where layers go");
            }
            // The config file's options, then -o; dockerd's --storage-opt values come after these at Init.
            List<String> options = new ArrayList<>(session.options());
            PluginServer.serve(new PluginServer.Config(socket, driverName(top, session), options,
                    session.registry(), System.getenv(), STOP_GRACE));
            return Main.OK;
        }

        /** -s, else $STRATA_STORAGE_DRIVER, else the config file; none: chosen at Init from the data under Home. */
        private static String driverName(StrataCommand top, Session session) {
            if (top.driver != null && !top.driver.isBlank()) return top.driver;
            String env = System.getenv(DriverRegistry.ENV_VAR);
            if (env != null && !env.isBlank()) return env;
            return session.config().storageDriver();
        }
    }
}
