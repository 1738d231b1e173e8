package dev.strata.kit;

import dev.strata.archive.ApplyOptions;

import java.nio.file.Path;

/** A private copy of a layer's content that an apply writes into, made by {@link LayerStorage#stageApply}. */
public interface StagedApply {
    /** Where the tar is applied: a directory, or a mounted root. */
    Path root();

    /** How: the whiteout format of {@link #root()} (on-disk whiteouts for an upper dir, deletion for a mount). */
    ApplyOptions options();

    /**
     * Makes the staged content the layer's, in one atomic step (a {@code RENAME_EXCHANGE}, a device swap). Either it
     * throws with the layer as it was, or it returns with the layer changed. Called under the id's and the home lock.
     */
    void commit();

    /** Drops the staged content (after a commit: the layer's old content). Idempotent; never touches the layer. */
    void discard();
}
