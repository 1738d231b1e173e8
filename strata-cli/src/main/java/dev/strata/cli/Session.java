package dev.strata.cli;

import dev.strata.api.DriverRegistry;
import dev.strata.api.DriverSelection;
import dev.strata.api.StorageDriver;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves what one invocation works on: the config file, the root, the driver (by the registry's precedence)
 * and its options. The driver is opened once and never cleaned up here: a {@code mount} must outlive the
 * command.
 */
final class Session {
    private final StrataCommand top;
    private final DriverRegistry registry = DriverRegistry.load();
    private StrataConfig config;
    private DriverSelection selection;
    private StorageDriver driver;

    Session(StrataCommand top) {
        this.top = top;
    }

    DriverRegistry registry() {
        return registry;
    }

    StrataConfig config() {
        if (config == null) {
            config = top.config != null ? StrataConfig.load(top.config, true) : StrataConfig.load(StrataConfig.DEFAULT, false);
        }
        return config;
    }

    /** --root wins when given; otherwise the config file's root; otherwise /var/lib/strata. */
    Path root() {
        if (top.root != null) return top.root.toAbsolutePath();
        if (config().root() != null) return Path.of(config().root());
        return StrataCommand.DEFAULT_ROOT;
    }

    DriverSelection selection() {
        if (selection == null) {
            selection = registry.select(new DriverRegistry.Request(root(), top.driver, System.getenv(), config().storageDriver()));
        }
        return selection;
    }

    List<String> options() {
        List<String> opts = new ArrayList<>(config().storageOpts());
        opts.addAll(top.storageOpts);
        return opts;
    }

    StorageDriver driver() {
        if (driver == null) driver = registry.open(selection().provider(), root(), options());
        return driver;
    }
}
