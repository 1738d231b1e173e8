package dev.strata.driver.devmapper;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.NotSupportedException;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;

import java.nio.file.Path;
import java.util.List;

/** ServiceLoader entry of the devicemapper driver: {@code devmapper}, alias {@code devicemapper}, priority 20. */
public final class DevmapperProvider implements DriverProvider {
    @Override
    public String name() {
        return DevmapperDriver.NAME;
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

    @Override
    public StorageDriver open(DriverContext context) {
        DevmapperOptions opts = DevmapperOptions.from(DevmapperDriver.NAME, context.options());
        Support s = DevmapperProbe.probe();
        if (!s.supported()) throw new NotSupportedException("open", context.home().toString(), s.reason());
        return new DevmapperDriver(context.home(), opts);
    }
}
