package dev.strata.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The top command and its global options, which every subcommand inherits (so {@code -o} means a driver option
 * wherever it is written). Subcommands are in {@link Subcommands}; driver selection in {@link Session}.
 */
@Command(name = "strata", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Pluggable storage drivers for Linux container layers.",
        footerHeading = "%nExit codes:%n",
        footer = {"  0  done (exists: the layer exists)",
                "  1  the operation failed (exists: no such layer)",
                "  2  usage or config error: unknown command, option, driver or driver option; nothing was tried",
                "  3  exists could not tell"})
public final class StrataCommand {
    static final Path DEFAULT_ROOT = Path.of("/var/lib/strata");

    @Option(names = "--root", scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "Storage root; each driver keeps its data in <root>/<driver> (default: the config file's root, else /var/lib/strata).")
    Path root;

    @Option(names = {"-s", "--storage-driver"}, scope = ScopeType.INHERIT, paramLabel = "DRIVER",
            description = "Driver to use. Otherwise: $STRATA_STORAGE_DRIVER, the config file, data already under the root, then the best supported one.")
    String driver;

    @Option(names = {"-o", "--storage-opt"}, scope = ScopeType.INHERIT, paramLabel = "KEY=VALUE",
            description = "Driver option (repeatable), e.g. overlay.size=10G. Added after the config file's storage-opts.")
    List<String> storageOpts = new ArrayList<>();

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "JSON config file with storage-driver, storage-opts and root (default: /etc/strata/config.json, if present).")
    Path config;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print results as JSON (see the README for each command's shape).")
    boolean json;

    private Session session;

    /** The driver session for this invocation, made on first use. */
    Session session() {
        if (session == null) session = new Session(this);
        return session;
    }
}
