package dev.strata.driver.btrfs;

import java.nio.file.Path;

/**
 * Where things live under the driver's home. moby's part: {@code subvolumes/<id>} (a layer is that subvolume)
 * and {@code quotas/<id>} (a layer's size limit in bytes, as text), so moby's btrfs data reads here and ours
 * there. The driver's own part is {@code .btrfs} (the driver kit's is {@code .strata}): each layer's parent
 * ({@code parents/<id>}), subvolumes being made with a size limit ({@code creating/<id>}), applied
 * ({@code applying/<id>}) or removed ({@code removing/<id>}), and qgroups to remove later ({@code qgroups/<subvolume id>}). All of it is in the same
 * subvolume as {@code subvolumes}, so a layer moves between these places by rename(2).
 */
record BtrfsLayout(Path home) {
    Path subvolumes() {
        return home.resolve("subvolumes");
    }

    Path layer(String id) {
        return subvolumes().resolve(id);
    }

    Path quotas() {
        return home.resolve("quotas");
    }

    Path quota(String id) {
        return quotas().resolve(id);
    }

    Path own() {
        return home.resolve(".btrfs");
    }

    Path parents() {
        return own().resolve("parents");
    }

    Path creating() {
        return own().resolve("creating");
    }

    Path applying() {
        return own().resolve("applying");
    }

    Path removing() {
        return own().resolve("removing");
    }

    Path pendingQgroups() {
        return own().resolve("qgroups");
    }
}
