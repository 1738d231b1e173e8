package dev.strata.e2e.containerd;

/** Scenario 1 on Strata's snapshotter serving the vfs driver. */
class StrataVfsCtrTest extends CtrScenario {
    StrataVfsCtrTest() {
        super(SnapshotterChoice.strata("vfs"));
    }
}
