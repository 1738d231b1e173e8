package dev.strata.driver.devmapper;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.NotSupportedException;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.kit.DriverKit;

import java.nio.file.Path;
import java.util.List;

/** ServiceLoader entry of the devicemapper driver: {@code devmapper}, alias {@code devicemapper}, priority 20. */
public final class DevmapperProvider implements DriverProvider {
    @Override
    public String name() {
        return DevmapperStorage.NAME;
    }

    @Override
    public List<String> aliases() {
        return List.of("devicemapper");
    }

    @Override
    public int priority() {
        return 20;
    }

    @Override
    public List<OptionSpec> options() {
        return DevmapperOptions.SPECS;
    }

    @Override
    public Support probe(Path home) {
        return DevmapperProbe.probe();
    }

    /** Decided at the first mapped layer, on the pool's own filesystem; this says what the choice is. */
    @Override
    public Support idMapSupport(Path home) {
        Support s = DevmapperProbe.probe();
        return s.supported() ? DeviceIdMaps.UNPROBED : s;
    }

    @Override
    public StorageDriver open(DriverContext context) {
        DevmapperOptions opts = DevmapperOptions.from(DevmapperStorage.NAME, context.options());
        Support s = DevmapperProbe.probe();
        if (!s.supported()) throw new NotSupportedException("open", context.home().toString(), s.reason());
        return DriverKit.wrap(new DevmapperStorage(context.home(), opts));
    }
}
