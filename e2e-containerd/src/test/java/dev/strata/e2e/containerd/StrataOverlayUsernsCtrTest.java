package dev.strata.e2e.containerd;

/** A user-namespaced container (ctr run --remap-labels) on Strata's snapshotter serving the overlay driver. */
class StrataOverlayUsernsCtrTest extends UsernsCtrScenario {
    StrataOverlayUsernsCtrTest() {
        super(SnapshotterChoice.strata("overlay"));
    }
}
