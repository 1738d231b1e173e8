package dev.strata.kernellab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What booting a guest needs here; a test that cannot have it is skipped with the reason. */
final class LabAssumptions {
    private LabAssumptions() {
    }

    static Path kernel() {
        assumeTrue("0".equals(uid()), "the kernel lab needs root (virtiofsd, loop and dm in the guest)");
        assumeTrue(onPath("qemu-system-x86_64"), "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
        assumeTrue(Files.isExecutable(Path.of("/usr/lib/qemu/virtiofsd")), "/usr/lib/qemu/virtiofsd is missing (qemu-system-x86 from Debian 12 ships it)");
        assumeTrue(Files.isRegularFile(Path.of("/bin/busybox")), "busybox-static is not installed");
        List<Path> k = KernelLab.installedKernels("vmlinuz-*-cloud-amd64");
        assumeTrue(!k.isEmpty(), "no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64; scripts/kernel-lab does)");
        return k.getLast();
    }

    /** qemu and virtiofsd processes below this JVM. */
    static List<ProcessHandle> vmProcesses() {
        return ProcessHandle.current().descendants().filter(LabAssumptions::isVm).toList();
    }

    static boolean isVm(ProcessHandle p) {
        String c = p.info().command().orElse("");
        return c.contains("qemu-system") || c.contains("virtiofsd");
    }

    private static String uid() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .map(l -> l.split("\\s+")[1]).findFirst().orElse("?");
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, exe))) return true;
        }
        return false;
    }
}
