package dev.strata.e2e.containerd;

/** Scenario 2 on Strata's snapshotter serving the vfs driver. */
class StrataVfsDocker28Test extends Docker28Scenario {
    StrataVfsDocker28Test() {
        super(SnapshotterChoice.strata("vfs"));
    }
}
