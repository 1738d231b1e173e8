package dev.strata.e2e.containerd;

/** Scenario 3 (CRI) with containerd 2.1.9 on containerd's overlayfs reached through a proxy socket, as Strata's snapshotter is. */
class ProxiedOverlayfsCri2Test extends CriScenario {
    ProxiedOverlayfsCri2Test() {
        super(Engines.CONTAINERD_2_1, SnapshotterChoice.proxiedOverlayfs());
    }
}
