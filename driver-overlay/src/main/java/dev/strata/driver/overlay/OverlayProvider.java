package dev.strata.driver.overlay;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.kit.DriverKit;

import java.nio.file.Path;
import java.util.List;

/** The overlay driver's ServiceLoader entry: {@code overlay}, also answering to moby's name {@code overlay2}. */
public final class OverlayProvider implements DriverProvider {
    public static final String NAME = "overlay";
    /** Above aufs (40), devicemapper (20) and vfs (10): the driver of choice wherever the kernel has overlay. */
    public static final int PRIORITY = 50;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> aliases() {
        return List.of("overlay2");
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public List<OptionSpec> options() {
        return OverlayOptions.SPECS;
    }

    @Override
    public Support probe(Path home) {
        return OverlayProbe.quick(home);
    }

    /** Idmapped lowers, where this kernel stacks an overlay on idmapped trees of the home's filesystem. */
    @Override
    public Support idMapSupport(Path home) {
        return OverlayStorage.idmappedLowers(home);
    }

    @Override
    public StorageDriver open(DriverContext context) {
        return DriverKit.wrap(OverlayStorage.open(context.home(), OverlayOptions.from(context.options())));
    }
}
