package dev.strata.e2e.containerd;

/** A user-namespaced container (ctr run --remap-labels) on Strata's snapshotter serving the vfs driver. */
class StrataVfsUsernsCtrTest extends UsernsCtrScenario {
    StrataVfsUsernsCtrTest() {
        super(SnapshotterChoice.strata("vfs"));
    }
}
