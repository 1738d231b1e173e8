package dev.strata.e2e.containerd;

/** Scenario 2 on Strata's snapshotter serving the overlay driver. */
class StrataOverlayDocker28Test extends Docker28Scenario {
    StrataOverlayDocker28Test() {
        super(SnapshotterChoice.strata("overlay"));
    }
}
