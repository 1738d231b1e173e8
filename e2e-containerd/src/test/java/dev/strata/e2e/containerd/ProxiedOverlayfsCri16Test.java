package dev.strata.e2e.containerd;

/** Scenario 3 (CRI) with containerd 1.6.20 on containerd's overlayfs reached through a proxy socket, as Strata's snapshotter is. */
class ProxiedOverlayfsCri16Test extends CriScenario {
    ProxiedOverlayfsCri16Test() {
        super(Engines.CONTAINERD_1_6, SnapshotterChoice.proxiedOverlayfs());
    }
}
