package dev.strata.driver.devmapper;

import dev.strata.api.Support;
import dev.strata.nativeio.Kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Whether devicemapper can work here, and if not, exactly why: no root, no device-mapper in the kernel (neither
 * loaded nor loadable), no thin-pool target, no loop devices for a loop-backed pool. Changes nothing.
 */
final class DevmapperProbe {
    private DevmapperProbe() {
    }

    static Support probe() {
        if (!Kernel.isRoot()) return Support.no("devmapper needs root (dm and loop ioctls need CAP_SYS_ADMIN)");
        if (Kernel.inUserNamespace()) {
            return Support.no("devmapper needs real root: dm and loop ioctls need CAP_SYS_ADMIN in the initial user namespace, "
                    + "and this process runs in a user namespace of its own");
        }
        String release = Kernel.release();
        boolean loaded = DeviceMapper.miscMinor().isPresent();
        boolean node = Files.exists(DeviceMapper.CONTROL);
        if (!loaded) {
            boolean module = hasModule(release, "dm-mod");
            if (!module) {
                return Support.no("device-mapper is not in this kernel (" + release + "): /dev/mapper/control "
                        + (node ? "exists but no device-mapper in /proc/misc" : "missing") + ", dm_mod not loadable (no dm-mod.ko in /lib/modules/" + release + ")");
            }
            if (!node) return Support.no("device-mapper is not loaded and /dev/mapper/control is missing (modprobe dm_mod dm_thin_pool)");
        }
        List<String> targets;
        String version;
        try (DeviceMapper dm = DeviceMapper.open()) {
            int[] v = dm.version();
            version = v[0] + "." + v[1] + "." + v[2];
            targets = dm.targetVersions();
        } catch (RuntimeException e) {
            return Support.no("device-mapper does not answer: " + e.getMessage());
        }
        String thin = targets.stream().filter(t -> t.startsWith("thin-pool ")).findFirst().orElse(null);
        if (thin == null && !hasModule(release, "dm-thin-pool")) {
            return Support.no("device-mapper " + version + " has no thin-pool target and dm-thin-pool is not loadable (" + release + ")");
        }
        if (!Files.exists(Path.of("/dev/loop-control")) && !hasModule(release, "loop")) {
            return Support.no("no loop devices for a loop-backed pool (/dev/loop-control missing); pass dm.thinpooldev");
        }
        return Support.yes("device-mapper " + version + ", " + (thin != null ? thin : "thin-pool (loaded on demand)")
                + (node ? "" : "; /dev/mapper/control will be made"));
    }

    /** Whether the running kernel's module tree has {@code name} (modules.dep lists every .ko by path). */
    static boolean hasModule(String release, String name) {
        Path dep = Path.of("/lib/modules", release, "modules.dep");
        try {
            String want = "/" + name + ".ko";
            for (String l : Files.readAllLines(dep)) {
                int colon = l.indexOf(':');
                String path = colon < 0 ? l : l.substring(0, colon);
                String p = path.replace('_', '-');
                if (p.contains(want.replace('_', '-'))) return true;
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
