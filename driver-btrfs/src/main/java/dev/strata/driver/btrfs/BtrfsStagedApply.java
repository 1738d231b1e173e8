package dev.strata.driver.btrfs;

import dev.strata.archive.ApplyOptions;

import java.nio.file.Path;

/**
 * An apply's private copy of a layer: a writable snapshot. {@link #commit} swaps it with the layer in one rename
 * exchange; {@link #discard} destroys it (after a commit, that is the layer's old content).
 */
final class BtrfsStagedApply {
    private final Path root;
    private final Runnable commit;
    private final Runnable discard;

    BtrfsStagedApply(Path root, Runnable commit, Runnable discard) {
        this.root = root;
        this.commit = commit;
        this.discard = discard;
    }

    Path root() {
        return root;
    }

    ApplyOptions options() {
        return BtrfsStorage.APPLY;
    }

    void commit() {
        commit.run();
    }

    void discard() {
        discard.run();
    }
}
