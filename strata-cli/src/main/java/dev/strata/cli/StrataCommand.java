package dev.strata.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The top command and its global options. Subcommands are in {@link Subcommands}; driver selection in {@link Session}. */
@Command(name = "strata", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Pluggable storage drivers for Linux container layers.")
public final class StrataCommand {
    static final Path DEFAULT_ROOT = Path.of("/var/lib/strata");

    @Option(names = "--root", scope = ScopeType.INHERIT,
            description = "Storage root; each driver keeps its data in <root>/<driver> (default: the config file's root, else /var/lib/strata).")
    Path root;

    @Option(names = {"-s", "--storage-driver"}, scope = ScopeType.INHERIT,
            description = "Driver to use. Otherwise: $STRATA_STORAGE_DRIVER, the config file, data already under the root, then the best supported one.")
    String driver;

    @Option(names = {"-o", "--storage-opt"}, paramLabel = "KEY=VALUE",
            description = "Driver option (repeatable), e.g. overlay.size=10G. Added after the config file's storage-opts.")
    List<String> storageOpts = new ArrayList<>();

    @Option(names = "--config", scope = ScopeType.INHERIT,
            description = "JSON config file with storage-driver, storage-opts and root (default: /etc/strata/config.json, if present).")
    Path config;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print results as JSON.")
    boolean json;

    private Session session;

    /** The driver session for this invocation, made on first use. */
    Session session() {
        if (session == null) session = new Session(this);
        return session;
    }
}
