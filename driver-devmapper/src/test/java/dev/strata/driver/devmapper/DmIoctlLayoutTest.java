package dev.strata.driver.devmapper;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The layouts against the offsets gcc gives for linux/dm-ioctl.h (java-stack.md §2); the kernel test is DmKernelTest. */
class DmIoctlLayoutTest {
    @Test
    void dmIoctlMatchesTheCHeader() {
        assertEquals(312, DmIoctl.DM_IOCTL.byteSize());
        assertEquals(0, DmIoctl.OFF_VERSION);
        assertEquals(12, DmIoctl.OFF_DATA_SIZE);
        assertEquals(16, DmIoctl.OFF_DATA_START);
        assertEquals(20, DmIoctl.OFF_TARGET_COUNT);
        assertEquals(24, DmIoctl.OFF_OPEN_COUNT);
        assertEquals(28, DmIoctl.OFF_FLAGS);
        assertEquals(32, DmIoctl.OFF_EVENT_NR);
        assertEquals(40, DmIoctl.OFF_DEV);
        assertEquals(48, DmIoctl.OFF_NAME);
        assertEquals(176, DmIoctl.OFF_UUID);
    }

    @Test
    void targetSpecMatchesTheCHeader() {
        assertEquals(40, DmIoctl.DM_TARGET_SPEC.byteSize());
        assertEquals(0, DmIoctl.SPEC_SECTOR_START);
        assertEquals(8, DmIoctl.SPEC_LENGTH);
        assertEquals(16, DmIoctl.SPEC_STATUS);
        assertEquals(20, DmIoctl.SPEC_NEXT);
        assertEquals(24, DmIoctl.SPEC_TARGET_TYPE);
        assertEquals(8, DmIoctl.DM_TARGET_MSG.byteSize());
    }

    @Test
    void commandNumbersAreIowrOfTheHeader() {
        assertEquals(0xC138FD00L, DmIoctl.Cmd.DM_VERSION.request());
        assertEquals(0xC138FD03L, DmIoctl.Cmd.DM_DEV_CREATE.request());
        assertEquals(0xC138FD04L, DmIoctl.Cmd.DM_DEV_REMOVE.request());
        assertEquals(0xC138FD06L, DmIoctl.Cmd.DM_DEV_SUSPEND.request());
        assertEquals(0xC138FD07L, DmIoctl.Cmd.DM_DEV_STATUS.request());
        assertEquals(0xC138FD09L, DmIoctl.Cmd.DM_TABLE_LOAD.request());
        assertEquals(0xC138FD0CL, DmIoctl.Cmd.DM_TABLE_STATUS.request());
        assertEquals(0xC138FD0EL, DmIoctl.Cmd.DM_TARGET_MSG.request());
    }
}
