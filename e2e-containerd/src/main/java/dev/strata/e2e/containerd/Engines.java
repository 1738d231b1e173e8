package dev.strata.e2e.containerd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine binaries the tests drive. containerd 1.6.20 and runc 1.1.5 are bookworm's (apt); containerd 2.1.9 and
 * dockerd 28.5.2 with its CLI are sid's, unpacked by {@code scripts/fetch-engines} under
 * {@code $STRATA_CACHE/engines} (system property {@code strata.engines}, default /var/cache/strata/engines).
 */
public enum Engines {
    /** Bookworm's containerd, from apt. */
    CONTAINERD_1_6("1.6.20", Path.of("/usr/bin")),
    /** Sid's containerd, unpacked into the engine cache. */
    CONTAINERD_2_1("2.1.9", cache().resolve("containerd2/usr/bin"));

    public static final Path RUNC = Path.of("/usr/sbin/runc");
    public static final Path DOCKER28 = cache().resolve("docker28");
    public static final Path DOCKERD = DOCKER28.resolve("usr/sbin/dockerd");
    public static final Path DOCKER_CLI = DOCKER28.resolve("usr/bin/docker");
    public static final String DOCKER_VERSION = "28.5.2";

    public final String version;
    /** containerd, ctr and containerd-shim-runc-v2 are here. */
    public final Path bin;

    Engines(String version, Path bin) {
        this.version = version;
        this.bin = bin;
    }

    public Path containerd() {
        return bin.resolve("containerd");
    }

    public Path ctr() {
        return bin.resolve("ctr");
    }

    /** containerd 2.x reads config version 3 (plugin ids such as io.containerd.cri.v1.images); 1.6 reads version 2. */
    public boolean v2() {
        return this == CONTAINERD_2_1;
    }

    /**
     * PATH for this containerd and what it starts: its own shim first (containerd looks the shim up on PATH), then
     * bookworm's runc (sid's runc needs a newer glibc), then dockerd 28's helpers (docker-init, docker-proxy).
     */
    public String path() {
        return bin + ":" + DOCKER28.resolve("usr/sbin") + ":" + DOCKER28.resolve("usr/bin") + ":/usr/sbin:/usr/bin:/sbin:/bin";
    }

    public static Path cache() {
        String p = System.getProperty("strata.engines");
        if (p == null || p.isBlank()) {
            String env = System.getenv("STRATA_CACHE");
            p = (env == null || env.isBlank() ? "/var/cache/strata" : env) + "/engines";
        }
        return Path.of(p);
    }

    /** Why this containerd (and, with {@code docker}, dockerd 28) cannot run here, or null when it can. */
    public String whyMissing(boolean docker) {
        List<Path> needed = new ArrayList<>(List.of(containerd(), ctr(), bin.resolve("containerd-shim-runc-v2"), RUNC));
        if (docker) needed.addAll(List.of(DOCKERD, DOCKER_CLI));
        List<String> missing = needed.stream().filter(p -> !Files.isExecutable(p)).map(Path::toString).toList();
        if (missing.isEmpty()) return null;
        String fix = this == CONTAINERD_1_6 && !docker ? "apt-get install containerd runc" : "run scripts/setup (it runs scripts/fetch-engines)";
        return "missing " + String.join(", ", missing) + ": " + fix;
    }
}
