package dev.strata.e2e.containerd;

/** Scenario 1 on Strata's snapshotter serving the overlay driver. */
class StrataOverlayCtrTest extends CtrScenario {
    StrataOverlayCtrTest() {
        super(SnapshotterChoice.strata("overlay"));
    }
}
