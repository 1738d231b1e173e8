package dev.strata.plugin;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The test driver's provider; public so ServiceLoader can make one in a child JVM. */
public final class MemoryDriverProvider implements DriverProvider {
    static final String NAME = "memory";
    /** Every driver opened through any instance, newest last. */
    static final List<MemoryDriver> OPENED = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 1;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(OptionSpec.size("memory.size", "a size, to check that options reach the driver"),
                OptionSpec.bool("memory.flag", "a flag"));
    }

    @Override
    public Support probe(Path home) {
        return Support.yes("in memory");
    }

    @Override
    public StorageDriver open(DriverContext context) {
        MemoryDriver d = new MemoryDriver(context.home(), context.options().asList());
        OPENED.add(d);
        return d;
    }
}
