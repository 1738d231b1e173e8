package dev.strata.e2e.containerd;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A containerd config.toml that keeps one containerd apart from every other on the machine (its own root, state,
 * socket and plugin directories) and registers the snapshotter under test. containerd 1.6 reads config version 2;
 * 2.x reads version 3, where the CRI plugin is split into {@code io.containerd.cri.v1.images} (which snapshotter,
 * which sandbox image) and {@code io.containerd.cri.v1.runtime} (CNI, runtimes).
 *
 * @param engine       which containerd reads it
 * @param dir          everything of this containerd goes under here
 * @param snapshotters each registered as a proxy plugin when it has a socket; CRI uses the first
 * @param sandboxImage the CRI plugin's pause image, or empty to leave the CRI plugin out
 */
public record ContainerdConfig(Engines engine, Path dir, List<Snapshotter> snapshotters, Optional<String> sandboxImage) {

    public ContainerdConfig {
        if (snapshotters.isEmpty()) throw new IllegalArgumentException("no snapshotter");
        snapshotters = List.copyOf(snapshotters);
    }

    public ContainerdConfig(Engines engine, Path dir, Snapshotter snapshotter, Optional<String> sandboxImage) {
        this(engine, dir, List.of(snapshotter), sandboxImage);
    }

    /** The snapshotter CRI uses. */
    public Snapshotter snapshotter() {
        return snapshotters.getFirst();
    }

    public Path root() {
        return dir.resolve("root");
    }

    public Path state() {
        return dir.resolve("state");
    }

    public Path socket() {
        return dir.resolve("containerd.sock");
    }

    public Path file() {
        return dir.resolve("config.toml");
    }

    /** CNI: empty directories; pods use the host's network, so CRI never calls a CNI plugin. */
    public Path cniConf() {
        return dir.resolve("cni/net.d");
    }

    public Path cniBin() {
        return dir.resolve("cni/bin");
    }

    /** runc's state for CRI's containers: here, not in /run/containerd/runc/k8s.io, which other containerds share. */
    public Path runcRoot() {
        return dir.resolve("runc");
    }

    public String toml() {
        boolean v2 = engine.v2();
        StringBuilder t = new StringBuilder();
        t.append("version = ").append(v2 ? 3 : 2).append('\n');
        t.append("root = ").append(q(root())).append('\n');
        t.append("state = ").append(q(state())).append('\n');
        t.append("disabled_plugins = ").append(list(disabledPlugins())).append("\n\n");
        t.append("[grpc]\n  address = ").append(q(socket())).append("\n\n");
        t.append("[plugins]\n");
        // /opt/containerd by default: a directory shared with every other containerd.
        t.append("  [plugins.'io.containerd.internal.v1.opt']\n    path = ").append(q(dir.resolve("opt"))).append('\n');
        sandboxImage.ifPresent(image -> t.append(v2 ? cri2(image) : cri16(image)));
        if (v2) {
            // 2.x's transfer service (ctr images import/pull, CRI pulls) unpacks only for the snapshotters listed
            // here, by default overlayfs alone: without this, "no unpack platforms defined".
            t.append("  [plugins.'io.containerd.transfer.v1.local']\n");
            for (Snapshotter s : snapshotters) {
                t.append("    [[plugins.'io.containerd.transfer.v1.local'.unpack_config]]\n");
                t.append("      platform = 'linux/amd64'\n      snapshotter = ").append(q(s.name())).append('\n');
            }
        }
        if (snapshotters.stream().anyMatch(s -> s.proxySocket().isPresent())) t.append("\n[proxy_plugins]\n");
        for (Snapshotter s : snapshotters) {
            s.proxySocket().ifPresent(socket -> {
                t.append("  [proxy_plugins.").append(s.name()).append("]\n");
                t.append("    type = 'snapshot'\n    address = ").append(q(socket)).append('\n');
                // 1.7+: tells CRI where the snapshots live (else it warns "snapshotter doesn't export root path").
                if (v2) s.exportedRoot().ifPresent(r -> t.append("    exports = { root = ").append(q(r)).append(" }\n"));
                // 2.x: what the client asks of a proxy before it sends labels such as the user-namespace id maps
                if (v2 && !s.capabilities().isEmpty()) t.append("    capabilities = ").append(list(s.capabilities())).append('\n');
            });
        }
        return t.toString();
    }

    /**
     * CRI gives pods a negative oom_score_adj (-998 for the sandbox); this VM refuses negative values (EIO), as
     * nested and rootless set-ups do. This keeps them at containerd's own. A normal node does not need it.
     */
    private static final String RESTRICT_OOM = "    restrict_oom_score_adj = true\n";

    private String cri16(String image) {
        return "  [plugins.'io.containerd.grpc.v1.cri']\n"
                + "    sandbox_image = " + q(image) + "\n"
                + RESTRICT_OOM
                + "    [plugins.'io.containerd.grpc.v1.cri'.containerd]\n"
                + "      snapshotter = " + q(snapshotter().name()) + "\n"
                + "      [plugins.'io.containerd.grpc.v1.cri'.containerd.runtimes.runc]\n"
                + "        runtime_type = 'io.containerd.runc.v2'\n"
                + "        [plugins.'io.containerd.grpc.v1.cri'.containerd.runtimes.runc.options]\n"
                + "          Root = " + q(runcRoot()) + "\n"
                + "    [plugins.'io.containerd.grpc.v1.cri'.cni]\n"
                + "      bin_dir = " + q(cniBin()) + "\n"
                + "      conf_dir = " + q(cniConf()) + "\n";
    }

    private String cri2(String image) {
        return "  [plugins.'io.containerd.cri.v1.images']\n"
                + "    snapshotter = " + q(snapshotter().name()) + "\n"
                + "    [plugins.'io.containerd.cri.v1.images'.pinned_images]\n"
                + "      sandbox = " + q(image) + "\n"
                + "  [plugins.'io.containerd.cri.v1.runtime']\n"
                + RESTRICT_OOM
                + "  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]\n"
                + "    runtime_type = 'io.containerd.runc.v2'\n"
                + "    sandboxer = 'podsandbox'\n"
                + "    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n"
                + "      Root = " + q(runcRoot()) + "\n"
                + "  [plugins.'io.containerd.cri.v1.runtime'.cni]\n"
                + "    bin_dirs = " + list(List.of(cniBin().toString())) + "\n"
                + "    conf_dir = " + q(cniConf()) + "\n";
    }

    /**
     * Plugins that would touch paths shared with other containerds (NRI's /var/run/nri/nri.sock) or are of no use
     * here (snapshotters for file systems not in play), and CRI when the test does not use it.
     */
    private List<String> disabledPlugins() {
        List<String> off = new ArrayList<>();
        for (String s : List.of("btrfs", "devmapper", "zfs", "aufs", "blockfile", "erofs")) {
            if (snapshotters.stream().noneMatch(sn -> sn.name().equals(s))) off.add("io.containerd.snapshotter.v1." + s);
        }
        off.add(engine.v2() ? "io.containerd.nri.v1.nri" : "io.containerd.internal.v1.nri");
        if (sandboxImage.isEmpty()) {
            off.add("io.containerd.grpc.v1.cri");
            if (engine.v2()) off.addAll(List.of("io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"));
        }
        return off;
    }

    /** A TOML literal string (paths and names here never hold a quote). */
    private static String q(Object s) {
        String v = s.toString();
        if (v.contains("'")) throw new IllegalArgumentException("a quote in " + v);
        return "'" + v + "'";
    }

    private static String list(List<String> items) {
        return "[" + String.join(", ", items.stream().map(ContainerdConfig::q).toList()) + "]";
    }
}
