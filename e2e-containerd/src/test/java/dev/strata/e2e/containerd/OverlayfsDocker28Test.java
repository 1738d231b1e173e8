package dev.strata.e2e.containerd;

/** Scenario 2 on containerd's built-in overlayfs: the reference that proves the scenario itself. */
class OverlayfsDocker28Test extends Docker28Scenario {
    OverlayfsDocker28Test() {
        super(SnapshotterChoice.builtIn("overlayfs"));
    }
}
