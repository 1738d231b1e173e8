package dev.strata.e2e.containerd;

import dev.strata.testsupport.Host;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * containerd's first call to a snapshotter that has just started must succeed, as it does for containerd's own
 * overlayfs behind a proxy socket. containerd 2.1 dials a proxy with a connect deadline of its back-off (about 1 s
 * the first time, at most 3 s later) that includes the HTTP/2 handshake. A fresh Strata JVM on a busy 2-core
 * machine took longer to answer its first connection, so the first Prepare failed with "Unavailable: connection
 * error: desc = "error reading server preface: ... use of closed network connection"" (seen in
 * StrataOverlayDocker28Test's docker import, load average 9). The scenarios work around it by waiting until a call
 * gets through ({@link Containerd#awaitSnapshotter}).
 */
@Disabled("fails under load until Strata's snapshotter is ready for a handshake within ~1 s of its socket appearing"
        + " (warm the gRPC/HTTP/2 path before publishing the socket); see the class comment")
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
