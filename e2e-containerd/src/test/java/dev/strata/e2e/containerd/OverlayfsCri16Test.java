package dev.strata.e2e.containerd;

/** Scenario 3 (CRI) with containerd 1.6.20 on containerd's built-in overlayfs: the reference that proves the scenario itself. */
class OverlayfsCri16Test extends CriScenario {
    OverlayfsCri16Test() {
        super(Engines.CONTAINERD_1_6, SnapshotterChoice.builtIn("overlayfs"));
    }
}
