package dev.strata.e2e.containerd;

/** Scenario 2 on containerd's overlayfs reached through a proxy socket, as Strata's snapshotter is. */
class ProxiedOverlayfsDocker28Test extends Docker28Scenario {
    ProxiedOverlayfsDocker28Test() {
        super(SnapshotterChoice.proxiedOverlayfs());
    }
}
