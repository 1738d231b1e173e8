package dev.strata.driver.devmapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceIdMapTest {
    @TempDir
    Path dir;

    @Test
    void idsSurviveAReopen() throws Exception {
        Path f = dir.resolve(DeviceIdMap.FILE);
        try (DeviceIdMap m = new DeviceIdMap(f)) {
            assertEquals(1, m.findFree(0), "id 0 is never handed out");
            m.markUsed(1);
            m.markUsed(2);
            m.markUsed(9);
            assertEquals(3, m.findFree(1));
            m.markFree(2);
        }
        assertEquals(2 << 20, Files.size(f));
        assertTrue(dev.strata.nativeio.PosixFiles.lstat(f).blocks() < 64, "the map is sparse");
        try (DeviceIdMap m = new DeviceIdMap(f)) {
            assertEquals(List.of(1, 9), m.used());
            assertTrue(m.isUsed(9));
            assertFalse(m.isUsed(2));
            assertEquals(2, m.findFree(1));
        }
    }

    @Test
    void searchWrapsAroundTheTopOfTheIdSpace() {
        try (DeviceIdMap m = new DeviceIdMap(dir.resolve(DeviceIdMap.FILE))) {
            m.markUsed(DeviceIdMap.MAX_ID);
            m.markUsed(1);
            assertEquals(2, m.findFree(DeviceIdMap.MAX_ID - 1));
            assertEquals(DeviceIdMap.MAX_ID - 1, m.findFree(DeviceIdMap.MAX_ID - 2));
        }
    }
}
