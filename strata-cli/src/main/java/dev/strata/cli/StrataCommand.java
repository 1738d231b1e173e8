package dev.strata.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

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

    /** The global options' names, for the annotations below and for the two scans that run before picocli. */
    static final String ROOT = "--root", DRIVER = "-s", DRIVER_LONG = "--storage-driver", STORAGE_OPT = "-o",
            STORAGE_OPT_LONG = "--storage-opt", CONFIG = "--config", JSON = "--json";

    /** The global options that take a value, by every name they have. */
    static final Set<String> OPTIONS_WITH_VALUE = Set.of(ROOT, DRIVER, DRIVER_LONG, STORAGE_OPT, STORAGE_OPT_LONG, CONFIG);

    @Option(names = ROOT, scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "Storage root; each driver keeps its data in <root>/<driver> (default: the config file's root, else /var/lib/strata).")
    Path root;

    @Option(names = {DRIVER, DRIVER_LONG}, scope = ScopeType.INHERIT, paramLabel = "DRIVER",
            description = "Driver to use. Otherwise: $STRATA_STORAGE_DRIVER, the config file, data already under the root, then the best supported one.")
    String driver;

    @Option(names = {STORAGE_OPT, STORAGE_OPT_LONG}, scope = ScopeType.INHERIT, paramLabel = "KEY=VALUE",
            description = "Driver option (repeatable), e.g. overlay.size=10G. Added after the config file's storage-opts.")
    List<String> storageOpts = new ArrayList<>();

    @Option(names = CONFIG, scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "JSON config file with storage-driver, storage-opts and root (default: /etc/strata/config.json, if present).")
    Path config;

    @Option(names = JSON, scope = ScopeType.INHERIT, description = "Print results as JSON (see the README for each command's shape).")
    boolean json;

    private Session session;

    /** The driver session for this invocation, made on first use. */
    Session session() {
        if (session == null) session = new Session(this);
        return session;
    }
}
