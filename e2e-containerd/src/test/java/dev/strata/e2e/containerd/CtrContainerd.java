package dev.strata.e2e.containerd;

import java.util.Optional;

/** containerd for the scenarios that drive it with its own ctr: started on the scenario's snapshotter, no CRI. */
final class CtrContainerd {
    private CtrContainerd() {
    }

    static Containerd start(Engines engine, Workspace ws, Snapshotter snapshotter) {
        Containerd c = new Containerd(new ContainerdConfig(engine, ws.resolve("containerd"), snapshotter, Optional.empty()), ws.marker);
        c.start();
        c.awaitSnapshotter(snapshotter, ws.marker);
        return c;
    }

    /** Kills and removes what containers a failed step left, then stops containerd (null: never started). */
    static void stop(Containerd containerd) {
        if (containerd == null) return;
        try {
            for (String id : containerd.ctr("containers", "ls", "-q").out().lines().toList()) {
                containerd.ctr("tasks", "kill", "-s", "SIGKILL", id);
                containerd.ctr("tasks", "delete", "-f", id);
                containerd.ctr("containers", "delete", id);
            }
            containerd.stop();
        } finally {
            containerd.close();
        }
    }
}
