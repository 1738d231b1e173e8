package dev.strata.e2e.containerd;

/** Scenario 3 (CRI) with containerd 1.6.20 on Strata's snapshotter serving the overlay driver. */
class StrataOverlayCri16Test extends CriScenario {
    StrataOverlayCri16Test() {
        super(Engines.CONTAINERD_1_6, SnapshotterChoice.strata("overlay"));
    }
}
