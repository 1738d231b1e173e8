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
        Support s = OverlayProbe.quick(home);
        if (!s.supported()) return s;
        Support ids = OverlayStorage.idmappedLowers(home);
        return Support.yes(s.reason() + "; id maps: " + (ids.supported() ? ids.reason() : "not supported (" + ids.reason() + ")"));
    }

    @Override
    public StorageDriver open(DriverContext context) {
        return DriverKit.wrap(OverlayStorage.open(context.home(), OverlayOptions.from(context.options())));
    }
}
