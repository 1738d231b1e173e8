package dev.strata.driver.btrfs;

import dev.strata.archive.ApplyOptions;
import dev.strata.kit.StagedApply;

import java.nio.file.Path;

/**
 * An apply's private copy of a layer: a writable snapshot. {@link #commit} swaps it with the layer in one rename
 * exchange; {@link #discard} destroys it: after a commit, that is the layer's old content; without one, what a failed
 * apply wrote, whose space comes back before discard returns (a disk an apply filled is usable again at once).
 */
final class BtrfsStagedApply implements StagedApply {
    private final Path root;
    private final ApplyOptions options;
    private final Runnable exchange;
    private final Runnable destroy;
    private final Runnable destroyAndReclaim;
    private boolean committed;

    BtrfsStagedApply(Path root, ApplyOptions options, Runnable exchange, Runnable destroy, Runnable destroyAndReclaim) {
        this.root = root;
        this.options = options;
        this.exchange = exchange;
        this.destroy = destroy;
        this.destroyAndReclaim = destroyAndReclaim;
    }

    @Override
    public Path root() {
        return root;
    }

    @Override
    public ApplyOptions options() {
        return options;
    }

    @Override
    public void commit() {
        exchange.run();
        committed = true;
    }

    @Override
    public void discard() {
        (committed ? destroy : destroyAndReclaim).run();
    }
}
