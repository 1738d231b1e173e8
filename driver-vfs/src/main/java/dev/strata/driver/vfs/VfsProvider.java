package dev.strata.driver.vfs;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.kit.DriverKit;

import java.nio.file.Path;
import java.util.List;

/** The vfs driver's service entry. vfs works on any filesystem, so it is the lowest-priority fallback. */
public final class VfsProvider implements DriverProvider {
    @Override
    public String name() {
        return VfsStorage.NAME;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(
                OptionSpec.size("vfs.size", "default size limit of read-write layers (project quota: xfs pquota or ext4 prjquota)"),
                OptionSpec.string("vfs.copy", "how file data is copied: reflink (default, falls back by itself), copy_file_range, copy"));
    }

    @Override
    public Support probe(Path home) {
        // No system call here: a probe runs on every command, and vfs works on any filesystem.
        return Support.yes("full copy per layer; works on any filesystem");
    }

    @Override
    public Support idMapSupport(Path home) {
        return VfsStorage.ID_MAPS;
    }

    @Override
    public StorageDriver open(DriverContext context) {
        return DriverKit.wrap(new VfsStorage(context));
    }
}
