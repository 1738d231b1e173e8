package dev.strata.e2e.containerd;

/** Scenario 3 (CRI) with containerd 2.1.9 on Strata's snapshotter serving the overlay driver. */
class StrataOverlayCri2Test extends CriScenario {
    StrataOverlayCri2Test() {
        super(Engines.CONTAINERD_2_1, SnapshotterChoice.strata("overlay"));
    }
}
