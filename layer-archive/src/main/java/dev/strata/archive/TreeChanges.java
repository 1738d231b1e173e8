package dev.strata.archive;

import dev.strata.api.Change;

import java.nio.file.Path;
import java.util.List;

/** Changes between trees, as moby's archive.ChangesDirs and OverlayChanges report them. CONTRACT ONLY for now. */
public final class TreeChanges {
    private TreeChanges() {
    }

    /** Added, modified and deleted paths of {@code layer} against {@code parent} (null: everything is added). */
    public static List<Change> between(Path layer, Path parent) {
        throw new UnsupportedOperationException("layer-archive: TreeChanges.between not implemented yet");
    }

    /** Changes read from an upper directory alone (overlay/aufs native changes). */
    public static List<Change> ofUpper(Path upperDir, WhiteoutFormat onDisk, List<Path> lowers) {
        throw new UnsupportedOperationException("layer-archive: TreeChanges.ofUpper not implemented yet");
    }

    /** The byte size of a change set: the sizes of added and modified regular files, each inode once. */
    public static long size(Path layer, List<Change> changes) {
        throw new UnsupportedOperationException("layer-archive: TreeChanges.size not implemented yet");
    }
}
