package dev.strata.e2e.containerd;

/** Scenario 3 (CRI) with containerd 2.1.9 on Strata's snapshotter serving the vfs driver. */
class StrataVfsCri2Test extends CriScenario {
    StrataVfsCri2Test() {
        super(Engines.CONTAINERD_2_1, SnapshotterChoice.strata("vfs"));
    }
}
