package dev.strata.e2e.containerd;

/** Scenario 1 on containerd's overlayfs reached through a proxy socket, as Strata's snapshotter is. */
class ProxiedOverlayfsCtrTest extends CtrScenario {
    ProxiedOverlayfsCtrTest() {
        super(SnapshotterChoice.proxiedOverlayfs());
    }
}
