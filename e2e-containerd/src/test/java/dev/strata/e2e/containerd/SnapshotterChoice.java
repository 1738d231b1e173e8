package dev.strata.e2e.containerd;

import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.Support;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** Which snapshotter a scenario runs on: Strata's server with one of its drivers, or one built into containerd. */
record SnapshotterChoice(String label, Function<Path, Snapshotter> factory, String strataDriver) {

    static SnapshotterChoice strata(String driver) {
        return new SnapshotterChoice("strata-" + driver, dir -> new StrataSnapshotter(dir, driver), driver);
    }

    /** Strata's server with containerd's config granting it no capability (no remap-ids: the client chowns a copy). */
    static SnapshotterChoice strataUngranted(String driver) {
        return new SnapshotterChoice("strata-" + driver + "-ungranted", dir -> new StrataSnapshotter(dir, driver).grant(List.of()), driver);
    }

    static SnapshotterChoice builtIn(String name) {
        return new SnapshotterChoice(name, dir -> new BuiltInSnapshotter(name), null);
    }

    /** containerd's overlayfs served as a proxy snapshotter (snapshotter-server's refserver): the proxy path without Strata. */
    static SnapshotterChoice proxiedOverlayfs() {
        return new SnapshotterChoice("overlayfs-proxy", ProxiedOverlayfs::new, null);
    }

    boolean isStrata() {
        return strataDriver != null;
    }

    /** Why it cannot run here (probed in {@code dir}), or null. */
    String whyUnavailable(Path dir) {
        if (label.equals("overlayfs-proxy")) return ProxiedOverlayfs.whyUnavailable();
        if (!isStrata()) return null;
        String server = StrataSnapshotter.whyUnavailable();
        if (server != null) return server;
        Optional<DriverProvider> p = DriverRegistry.load().find(strataDriver);
        if (p.isEmpty()) return "no Strata driver named " + strataDriver + " on the class path";
        Support s = p.get().probe(dir);
        return s.supported() ? null : strataDriver + " cannot run here: " + s.reason();
    }

    Snapshotter create(Path dir) {
        return factory.apply(dir);
    }
}
