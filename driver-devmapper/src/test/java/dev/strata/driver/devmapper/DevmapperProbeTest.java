package dev.strata.driver.devmapper;

import dev.strata.api.DriverRegistry;
import dev.strata.api.Support;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DevmapperProbeTest {
    @Test
    void registeredAsDevmapperWithItsDockerAlias() {
        var p = DriverRegistry.load().require("devicemapper");
        assertEquals("devmapper", p.name());
        assertEquals(20, p.priority());
    }

    @Test
    void aKernelWithoutDeviceMapperGetsThePreciseReason() {
        assumeTrue(dev.strata.nativeio.Kernel.isRoot(), "the probe reports root first");
        assumeFalse(DeviceMapper.miscMinor().isPresent(), "this kernel has device-mapper loaded");
        assumeFalse(DevmapperProbe.hasModule(dev.strata.nativeio.Kernel.release(), "dm-mod"), "dm_mod is a loadable module here");
        Support s = new DevmapperProvider().probe(Path.of("/tmp"));
        assertFalse(s.supported());
        assertTrue(s.reason().startsWith("device-mapper is not in this kernel"), s.reason());
        String control = Files.exists(DeviceMapper.CONTROL) ? "/dev/mapper/control exists but no device-mapper in /proc/misc"
                : "/dev/mapper/control missing";
        assertTrue(s.reason().contains(control) && s.reason().contains("dm_mod not loadable"), s.reason());
    }

    @Test
    void aKernelWithDeviceMapperIsSupported() {
        assumeTrue(dev.strata.nativeio.Kernel.isRoot(), "needs root");
        assumeTrue(DeviceMapper.miscMinor().isPresent(), "device-mapper is not in this kernel (run in the kernel lab)");
        Support s = new DevmapperProvider().probe(Path.of("/tmp"));
        assertTrue(s.supported(), s.reason());
        assertTrue(s.reason().startsWith("device-mapper 4."), s.reason());
    }
}
