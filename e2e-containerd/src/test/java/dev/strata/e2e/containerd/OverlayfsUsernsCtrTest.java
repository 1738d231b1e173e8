package dev.strata.e2e.containerd;

/** The user-namespace scenario on containerd 2.1.9's built-in overlayfs: the reference that proves the scenario. */
class OverlayfsUsernsCtrTest extends UsernsCtrScenario {
    OverlayfsUsernsCtrTest() {
        super(SnapshotterChoice.builtIn("overlayfs"));
    }
}
