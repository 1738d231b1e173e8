package dev.strata.kernellab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The KVM probe's three outcomes, with a stand-in for qemu: a guest that boots (KVM), a qemu that aborts (as on an
 * MSR here) and one that hangs (TCG, each with its reason), and none of them leave a process or a file behind.
 */
class AcceleratorTest {
    private static final Path BUSYBOX = Path.of("/bin/busybox");

    @TempDir
    Path tmp;

    @Test
    void aGuestThatBootsUnderKvmGetsKvm() throws Exception {
        Accelerator.Choice c = probe("#!/bin/sh\necho 'Linux version ...'\necho STRATA-KVM-PROBE-BOOTED\n", Duration.ofSeconds(20));
        assertEquals("kvm", c.accel());
        assertNull(c.note());
    }

    @Test
    void aQemuThatAbortsGetsTcgWithItsError() throws Exception {
        Accelerator.Choice c = probe("#!/bin/sh\necho 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2\nexit 134\n",
                Duration.ofSeconds(20));
        assertEquals("tcg", c.accel());
        assertTrue(c.note().contains("exited 134") && c.note().contains("failed to set MSR"), c.note());
    }

    @Test
    void aGuestThatHangsGetsTcgAtTheLimit() throws Exception {
        long t0 = System.nanoTime();
        Accelerator.Choice c = probe("#!/bin/sh\necho 'Probing EDD (edd=off to disable)... ok'\nexec sleep 600\n", Duration.ofSeconds(2));
        assertEquals("tcg", c.accel());
        assertTrue(c.note().contains("did not boot") && c.note().contains("within 2 s"), c.note());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(15).toNanos(), "the probe ended at its limit");
    }

    @Test
    void noKvmDeviceGetsTcgWithoutAProbe() {
        Accelerator.Choice c = Accelerator.probe(kernel(), Path.of("/nonexistent-qemu"), BUSYBOX, tmp, tmp.resolve("no-kvm"), Duration.ofSeconds(1));
        assertEquals(new Accelerator.Choice("tcg", "no " + tmp.resolve("no-kvm")), c);
    }

    @Test
    void aDecisionReadsBackAsWritten() {
        for (Accelerator.Choice c : List.of(new Accelerator.Choice("kvm", null), new Accelerator.Choice("tcg", "KVM did not boot 6.1 within 15 s"))) {
            assertEquals(c, Accelerator.Choice.parse(c.line()));
        }
        assertNull(Accelerator.Choice.parse("what"));
    }

    private Accelerator.Choice probe(String fakeQemu, Duration limit) throws Exception {
        assumeTrue(Files.isRegularFile(BUSYBOX), "busybox-static is not installed");
        Path qemu = Files.writeString(tmp.resolve("qemu"), fakeQemu);
        Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwx------"));
        Path kvm = Files.createFile(tmp.resolve("kvm"));
        Path work = Files.createDirectory(tmp.resolve("work"));
        Accelerator.Choice c = Accelerator.probe(kernel(), qemu, BUSYBOX, work, kvm, limit);
        try (var left = Files.list(work)) {
            assertEquals(List.of(), left.toList(), "the probe's directory outlived it");
        }
        assertEquals(List.of(), ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").contains("sleep")).toList());
        return c;
    }

    private KernelImage kernel() {
        return new KernelImage(tmp.resolve("vmlinuz-9.9.9-test"), "9.9.9-test");
    }
}
