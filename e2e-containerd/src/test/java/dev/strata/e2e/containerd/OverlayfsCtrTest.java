package dev.strata.e2e.containerd;

/** Scenario 1 on containerd's built-in overlayfs: the reference that proves the scenario itself. */
class OverlayfsCtrTest extends CtrScenario {
    OverlayfsCtrTest() {
        super(SnapshotterChoice.builtIn("overlayfs"));
    }
}
