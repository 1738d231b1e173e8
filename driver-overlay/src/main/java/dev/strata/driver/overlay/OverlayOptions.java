package dev.strata.driver.overlay;

import dev.strata.api.DriverOptions;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.OptionSpec;
import dev.strata.nativeio.Kernel;

import java.util.List;
import java.util.Locale;

/**
 * The driver-wide options of overlay, checked.
 *
 * @param defaultSize   {@code overlay.size}: quota in bytes for every read-write layer (0: none)
 * @param defaultInodes {@code overlay.inodes}: inode quota for every read-write layer (0: none)
 * @param mount         {@code overlay.mountopt}: extra mount options
 * @param userxattr     {@code overlay.userxattr}: keep overlay's markers in {@code user.overlay.*} (rootless)
 * @param mountApi      {@code overlay.mount_api}: which mount call to use
 */
record OverlayOptions(long defaultSize, long defaultInodes, MountOptions mount, boolean userxattr, MountApi mountApi) {
    static final String SIZE = "overlay.size", INODES = "overlay.inodes", MOUNTOPT = "overlay.mountopt",
            USERXATTR = "overlay.userxattr", MOUNT_API = "overlay.mount_api";

    /** How layers are mounted. */
    enum MountApi {
        /** fsopen + fsconfig(lowerdir+) where the kernel has it (6.8+), otherwise mount(2). */
        AUTO,
        /** Always the new mount API; opening fails on a kernel without lowerdir+. */
        FSOPEN,
        /** Always mount(2) with an option string of at most one page (the fallback; also for testing it). */
        MOUNT
    }

    static final List<OptionSpec> SPECS = List.of(
            OptionSpec.size(SIZE, "default size limit of read-write layers (xfs with pquota), e.g. 10G"),
            OptionSpec.integer(INODES, "default inode limit of read-write layers (xfs with pquota)"),
            OptionSpec.string(MOUNTOPT, "extra mount options, comma-separated: nodev, nosuid, noexec, metacopy=on, volatile, ..."),
            OptionSpec.bool(USERXATTR, "keep whiteouts and opaque markers in user.overlay.* (default: on when not root)"),
            OptionSpec.string(MOUNT_API, "auto (default), fsopen (new mount API, Linux 6.8+) or mount (mount(2), one page of options)"));

    static OverlayOptions from(DriverOptions o) {
        String driver = OverlayProvider.NAME;
        long size = o.size(SIZE).orElse(0L);
        long inodes = o.integer(INODES).orElse(0L);
        if (inodes < 0) throw new InvalidOptionException(driver, INODES, "invalid value for " + INODES + ": must not be negative");
        MountOptions mount;
        try {
            mount = MountOptions.parse(o.string(MOUNTOPT).orElse(""));
        } catch (IllegalArgumentException e) {
            throw new InvalidOptionException(driver, MOUNTOPT, "invalid value for " + MOUNTOPT + ": " + e.getMessage());
        }
        boolean userxattr = o.bool(USERXATTR).orElseGet(() -> !Kernel.isRoot() || Kernel.inUserNamespace());
        MountApi api;
        String apiText = o.string(MOUNT_API).orElse("auto").toLowerCase(Locale.ROOT);
        switch (apiText) {
            case "auto" -> api = MountApi.AUTO;
            case "fsopen", "new" -> api = MountApi.FSOPEN;
            case "mount", "mount2", "legacy" -> api = MountApi.MOUNT;
            default -> throw new InvalidOptionException(driver, MOUNT_API,
                    "invalid value for " + MOUNT_API + ": \"" + apiText + "\" (expected auto, fsopen or mount)");
        }
        return new OverlayOptions(size, inodes, mount, userxattr, api);
    }
}
