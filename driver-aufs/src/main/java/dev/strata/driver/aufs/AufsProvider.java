package dev.strata.driver.aufs;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.NotSupportedException;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.kit.DriverKit;

import java.nio.file.Path;
import java.util.List;

/**
 * The aufs driver's ServiceLoader entry. Priority 40: below overlay, as in moby's list where aufs follows
 * overlay2. moby's aufs takes no options, and neither does this one.
 */
public final class AufsProvider implements DriverProvider {
    public static final int PRIORITY = 40;

    @Override
    public String name() {
        return AufsStorage.NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of();
    }

    @Override
    public Support probe(Path home) {
        return new AufsProbe(AufsProbe.Facts.system()).probe(home);
    }

    @Override
    public StorageDriver open(DriverContext context) {
        Support s = probe(context.home());
        if (!s.supported()) throw new NotSupportedException("open", AufsStorage.NAME, s.reason());
        return DriverKit.wrap(new AufsStorage(context.home()));
    }
}
