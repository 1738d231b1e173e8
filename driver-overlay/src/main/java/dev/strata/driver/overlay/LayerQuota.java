package dev.strata.driver.overlay;

import dev.strata.api.NotSupportedException;
import dev.strata.api.Sizes;
import dev.strata.nativeio.ProjectQuota;

import java.nio.file.Path;

/**
 * Size and inode limits of read-write layers through xfs project quotas, as moby's overlay2 does: the limit is
 * set on {@code <home>/<id>} before anything is written into it, so it covers diff and work (the layer's own
 * writes, not the image below). Opened eagerly when the backing filesystem is xfs or a default limit is
 * configured (so a bad {@code overlay.size} fails at open), otherwise on the first layer that asks for one.
 */
final class LayerQuota {
    private final Path home;
    private final String backingFs;
    private ProjectQuota quota;
    private String unsupported;

    LayerQuota(Path home, String backingFs, long defaultSize, long defaultInodes) {
        this.home = home;
        this.backingFs = backingFs;
        if (defaultSize > 0 || defaultInodes > 0) {
            try {
                quota = ProjectQuota.open(home);
            } catch (NotSupportedException e) {
                String key = defaultSize > 0 ? OverlayOptions.SIZE : OverlayOptions.INODES;
                throw new NotSupportedException("open", home.toString(), "Storage option " + key + " not supported. "
                        + (backingFs.equals("xfs") ? "Filesystem does not support Project Quota: " + e.reason()
                        : "Project quotas need xfs mounted with pquota; found " + backingFs + ": " + e.reason()));
            }
        } else if (backingFs.equals("xfs")) {
            tryOpen();
        }
    }

    private synchronized ProjectQuota tryOpen() {
        if (quota == null && unsupported == null) {
            try {
                quota = ProjectQuota.open(home);
            } catch (NotSupportedException e) {
                unsupported = e.reason();
            }
        }
        return quota;
    }

    /** Whether limits can be set (opens the quota on first use). */
    synchronized boolean supported() {
        return tryOpen() != null;
    }

    /** Throws the reason limits cannot be set, naming the per-layer option, before anything is made. */
    void require(String operation, String id) {
        if (tryOpen() == null) {
            throw new NotSupportedException(operation, id, "--storage-opt size and inodes are supported only for overlay over xfs "
                    + "with 'pquota' mount option (backing filesystem here: " + backingFs + "; " + unsupported + ")");
        }
    }

    /** Limits a layer directory; call {@link #require} first. */
    void set(Path layerDir, long bytes, long inodes) {
        tryOpen().set(layerDir, bytes, inodes);
    }

    synchronized void moved(Path from, Path to) {
        if (quota != null) quota.moved(from, to);
    }

    synchronized void forget(Path layerDir) {
        if (quota != null) quota.forget(layerDir);
    }

    synchronized ProjectQuota.Usage usage(Path layerDir) {
        return quota == null ? null : quota.usage(layerDir);
    }

    /** For status: whether quotas work, or why not. */
    synchronized String describe(long defaultSize, long defaultInodes) {
        if (quota != null) {
            String d = defaultSize > 0 ? ", default size " + Sizes.human(defaultSize) : "";
            if (defaultInodes > 0) d += ", default inodes " + defaultInodes;
            return "true" + d;
        }
        if (unsupported != null) return "false (" + unsupported + ")";
        return "false (checked when a layer asks for a limit; needs xfs with pquota)";
    }
}
