package dev.strata.driver.btrfs;

import dev.strata.archive.ApplyOptions;
import dev.strata.kit.StagedApply;

import java.nio.file.Path;

/**
 * An apply's private copy of a layer: a writable snapshot. {@link #commit} swaps it with the layer in one rename
 * exchange; {@link #discard} destroys it (after a commit, that is the layer's old content).
 */
record BtrfsStagedApply(Path root, ApplyOptions options, Runnable exchange, Runnable destroy) implements StagedApply {
    @Override
    public void commit() {
        exchange.run();
    }

    @Override
    public void discard() {
        destroy.run();
    }
}
