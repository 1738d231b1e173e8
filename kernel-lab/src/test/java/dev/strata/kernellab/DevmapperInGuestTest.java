package dev.strata.kernellab;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * driver-devmapper's tests, which need device-mapper, run inside the Debian cloud kernel: the struct layouts and
 * every dm command against the kernel, the driver on a loop-backed pool, and the crash tests. Afterwards no dm or
 * loop device is left in the guest, and no qemu or virtiofsd on the host.
 */
class DevmapperInGuestTest {
    @Test
    void driverTestsPassUnderAKernelWithDeviceMapper() {
        Path kernel = LabAssumptions.kernel();
        LabResult r = KernelLab.forKernel(kernel).extraModule("xfs").timeout(Duration.ofMinutes(25))
                .output(l -> System.out.println("[guest] " + l)).build()
                .run(GuestCommand.java(GuestTests.class.getName(), List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
                        List.of("package:dev.strata.driver.devmapper")));
        System.out.println(r.message());
        String summary = r.output().stream().filter(l -> l.startsWith("guest-tests: ")).findFirst().orElse("(no summary)");
        assertEquals(0, r.exitCode(), r.message() + "; " + summary);
        assertTrue(summary.matches("guest-tests: [1-9]\\d* passed, 0 failed, \\d+ skipped"), summary);
        assertEquals(List.of(), r.leaks(), "dm or loop devices left in the guest");
        assertEquals(List.of(), LabAssumptions.vmProcesses());
    }
}
