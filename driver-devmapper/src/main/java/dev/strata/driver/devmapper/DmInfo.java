package dev.strata.driver.devmapper;

/** What DM_DEV_STATUS says of one mapped device. */
record DmInfo(String name, long dev, int openCount, int eventNr, int flags, int targetCount) {
    boolean suspended() {
        return (flags & DmIoctl.DM_SUSPEND_FLAG) != 0;
    }

    boolean hasLiveTable() {
        return (flags & DmIoctl.DM_ACTIVE_PRESENT_FLAG) != 0;
    }

    boolean deferredRemove() {
        return (flags & DmIoctl.DM_DEFERRED_REMOVE) != 0;
    }
}
