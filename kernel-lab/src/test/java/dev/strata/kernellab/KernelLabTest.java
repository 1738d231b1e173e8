package dev.strata.kernellab;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Boots the Debian cloud kernel under TCG. Each test checks that no qemu or virtiofsd outlives its run. */
class KernelLabTest {
    @Test
    void runsACommandInTheGuestKernelAndStreamsItsOutput() {
        Path kernel = LabAssumptions.kernel();
        List<String> streamed = Collections.synchronizedList(new ArrayList<>());
        LabResult r = KernelLab.forKernel(kernel).timeout(Duration.ofMinutes(5)).output(streamed::add).build()
                .run(GuestCommand.of("/bin/sh", "-c", "uname -r; test -c /dev/mapper/control && echo has-dm; echo to-stderr >&2; "
                        + "stat -f -c %T \"$TMPDIR\"; exit 7"));
        assertEquals(7, r.exitCode(), r.message() + "\n" + r.output());
        assertFalse(r.timedOut());
        assertEquals(KernelImage.of(kernel).release(), r.output().getFirst(), "the command ran under the guest kernel");
        assertTrue(r.output().contains("has-dm"), r.output().toString());
        assertTrue(r.output().contains("to-stderr"), r.output().toString());
        assertTrue(r.output().contains("tmpfs"), "the scratch space is the guest's own tmpfs: " + r.output());
        assertEquals(r.output(), streamed, "every line went to the output consumer");
        assertEquals(List.of(), r.leaks());
        assertTrue(r.message().contains("command exited 7"), r.message());
        assertEquals(List.of(), LabAssumptions.vmProcesses());
    }

    @Test
    void aHungGuestIsKilledAtTheTimeoutWithAClearMessage() {
        Path kernel = LabAssumptions.kernel();
        LabResult r = KernelLab.forKernel(kernel).timeout(Duration.ofSeconds(15)).output(l -> { }).build()
                .run(GuestCommand.of("/bin/sh", "-c", "echo going-to-hang; sleep 1000"));
        assertTrue(r.timedOut(), r.message());
        assertEquals(-1, r.exitCode());
        assertTrue(r.message().matches("(?s)kernel lab: the guest did not (finish|reach the command) within 15 s .*killed qemu \\(pid \\d+\\) and virtiofsd \\(pid \\d+\\).*"), r.message());
        assertEquals(List.of(), LabAssumptions.vmProcesses());
    }

    @Test
    void devicesLeftInTheGuestAreReported() {
        Path kernel = LabAssumptions.kernel();
        LabResult r = KernelLab.forKernel(kernel).timeout(Duration.ofMinutes(5)).output(l -> { }).build()
                .run(GuestCommand.java(LeaveALoopDevice.class.getName(), List.of("-XX:TieredStopAtLevel=1"), List.of()));
        assertEquals(0, r.exitCode(), r.message() + "\n" + r.output());
        assertFalse(r.passed(), "a command that leaves a device behind does not pass");
        assertEquals(1, r.leaks().size(), r.leaks().toString());
        assertTrue(r.leaks().getFirst().matches("loop /dev/loop\\d+ .*leaked.img"), r.leaks().toString());
    }

    @Test
    void aKilledJvmTakesQemuAndVirtiofsdWithIt() throws Exception {
        Path workRoot = Files.createTempDirectory("strata-lab-test-");
        try {
            Process jvm = sleepingGuest(workRoot);
            List<ProcessHandle> vm = vmOf(jvm);
            jvm.destroyForcibly(); // SIGKILL: no shutdown hook runs
            jvm.waitFor(30, TimeUnit.SECONDS);
            assertAllGone(vm);
        } finally {
            deleteTree(workRoot); // a SIGKILLed lab cannot delete its work directory
        }
    }

    @Test
    void aStoppedJvmTakesQemuVirtiofsdAndItsWorkDirectoryWithIt() throws Exception {
        Path workRoot = Files.createTempDirectory("strata-lab-test-");
        try {
            Process jvm = sleepingGuest(workRoot);
            List<ProcessHandle> vm = vmOf(jvm);
            jvm.destroy(); // SIGTERM, as timeout(1) or Ctrl-C: the JVM runs its shutdown hooks and halts
            assertTrue(jvm.waitFor(60, TimeUnit.SECONDS), "the lab's JVM exited after SIGTERM");
            assertAllGone(vm);
            try (Stream<Path> left = Files.list(workRoot)) {
                assertEquals(List.of(), left.toList(), "the run's work directory outlived the stopped JVM");
            }
        } finally {
            deleteTree(workRoot);
        }
    }

    /** A lab JVM running {@code sleep 1000} in the guest, its work directories under {@code workRoot}. */
    private static Process sleepingGuest(Path workRoot) throws Exception {
        Path kernel = LabAssumptions.kernel();
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + workRoot, "-cp", System.getProperty("java.class.path"), KernelLabMain.class.getName(),
                "--kernel", kernel.toString(), "--timeout", "600", "--", "/bin/sleep", "1000")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** qemu and virtiofsd of {@code jvm}, once both run (killing {@code jvm} when they do not within 120 s). */
    private static List<ProcessHandle> vmOf(Process jvm) throws Exception {
        List<ProcessHandle> vm = List.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            vm = jvm.toHandle().descendants().filter(LabAssumptions::isVm).toList();
            if (vm.size() == 2) return vm;
            Thread.sleep(200);
        }
        jvm.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        throw new AssertionError("qemu and virtiofsd did not both start: " + vm);
    }

    private static void assertAllGone(List<ProcessHandle> vm) throws Exception {
        for (ProcessHandle p : vm) {
            p.onExit().get(20, TimeUnit.SECONDS);
            assertFalse(p.isAlive(), p.info().command().orElse("?") + " (pid " + p.pid() + ") outlived the lab's JVM");
        }
    }

    private static void deleteTree(Path dir) throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
