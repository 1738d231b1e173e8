package dev.strata.snapshotter;

import dev.strata.kernellab.GuestCommand;
import dev.strata.kernellab.GuestTests;
import dev.strata.kernellab.KernelLab;
import dev.strata.kernellab.LabResult;
import dev.strata.api.DriverRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Boots Debian's cloud kernel (device-mapper) in the kernel lab and runs {@link DevmapperSnapshotterTest} there. */
class DevmapperLabTest {
    @Test
    void devmapperIsServedAsASnapshotterInAKernelWithDeviceMapper() {
        // The driver's probe, not the control node, which can outlive the driver (a dmsetup call makes one).
        assumeTrue(!DriverRegistry.load().require("devmapper").probe(Path.of("/tmp")).supported(),
                "this kernel has device-mapper: DevmapperSnapshotterTest runs here directly");
        assumeTrue(Files.isExecutable(Path.of("/usr/lib/qemu/virtiofsd")) && Files.isRegularFile(Path.of("/bin/busybox")),
                "the kernel lab needs qemu-system-x86 and busybox-static (scripts/setup installs them)");
        List<Path> kernels = KernelLab.installedKernels("vmlinuz-*-cloud-amd64");
        assumeTrue(!kernels.isEmpty(), "no /boot/vmlinuz-*-cloud-amd64 (scripts/setup installs linux-image-cloud-amd64)");
        List<String> out = new ArrayList<>();
        LabResult r = KernelLab.forKernel(kernels.getLast()).timeout(Duration.ofMinutes(5)).output(out::add).build()
                .run(GuestCommand.java(GuestTests.class.getName(), List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
                        List.of(DevmapperSnapshotterTest.class.getName())));
        String log = String.join("\n", out);
        out.stream().filter(l -> l.contains("under id maps")).forEach(System.out::println); // which way devmapper took
        assertEquals(0, r.exitCode(), r.message() + "\n" + log);
        assertTrue(log.contains("1 passed, 0 failed"), log);
        assertTrue(r.leaks().isEmpty(), "dm or loop devices left in the guest: " + r.leaks());
    }
}
