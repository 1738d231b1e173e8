package dev.strata.e2e.containerd;

import dev.strata.testsupport.Host;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * containerd's first call to a snapshotter that has just started succeeds, as it does for containerd's own
 * overlayfs behind a proxy socket. containerd 2.1 dials a proxy with a connect deadline of its back-off (about 1 s
 * the first time, at most 3 s later) that includes the HTTP/2 handshake. A cold Strata JVM on a busy 2-core machine
 * once took longer to answer its first connection, and the first Prepare failed with "Unavailable: connection
 * error: desc = "error reading server preface: ... use of closed network connection"" (load average 9). The server
 * now answers calls of its own on a private path before it publishes the socket (snapshotter-server's
 * {@code Warmup}), so the socket appearing means a warm server. No retry here: the first call must succeed.
 */
class StrataFirstCallTest extends EngineScenario {
    Containerd containerd;

    StrataFirstCallTest() {
        super("first-call", SnapshotterChoice.strata("overlay"));
    }

    @Override
    String whyEnginesMissing() {
        return Engines.CONTAINERD_2_1.whyMissing(false);
    }

    @Override
    void startEngines() {
        containerd = new Containerd(new ContainerdConfig(Engines.CONTAINERD_2_1, ws.resolve("containerd"), snapshotter, Optional.empty()),
                ws.marker);
        containerd.start();
    }

    @Override
    void stopEngines() {
        if (containerd == null) return;
        try {
            containerd.stop();
        } finally {
            containerd.close();
        }
    }

    @Test
    @Order(1)
    void theFirstPrepareThroughContainerdSucceeds() {
        Host.Result r = containerd.ctr("snapshots", "--snapshotter", snapshotter.name(), "prepare", "first");
        assertEquals(0, r.code(), r.err());
        containerd.ctrOk("snapshots", "--snapshotter", snapshotter.name(), "rm", "first");
    }
}
