package dev.strata.e2e.containerd;

/**
 * A user-namespaced container (ctr run --remap-labels) on Strata's overlay snapshotter that containerd's config does
 * not grant remap-ids: containerd's client makes its chown'ed copy and still sends the labels.
 */
class StrataOverlayUngrantedUsernsCtrTest extends UsernsCtrScenario {
    StrataOverlayUngrantedUsernsCtrTest() {
        super(SnapshotterChoice.strataUngranted("overlay"));
    }
}
