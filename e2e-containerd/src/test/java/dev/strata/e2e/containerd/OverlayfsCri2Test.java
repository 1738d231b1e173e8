package dev.strata.e2e.containerd;

/** Scenario 3 (CRI) with containerd 2.1.9 on containerd's built-in overlayfs: the reference that proves the scenario itself. */
class OverlayfsCri2Test extends CriScenario {
    OverlayfsCri2Test() {
        super(Engines.CONTAINERD_2_1, SnapshotterChoice.builtIn("overlayfs"));
    }
}
