package dev.strata.kernellab;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuestScriptsTest {
    @Test
    void quotingKeepsEveryCharacterLiteral() {
        assertEquals("'it'\\''s $HOME `x` \"y\"'", GuestScripts.quote("it's $HOME `x` \"y\""));
    }

    @Test
    void runScriptSetsScratchEnvironmentAndDirectory() {
        GuestCommand c = new GuestCommand(List.of("/usr/bin/java", "-Djava.io.tmpdir=" + KernelLab.SCRATCH_PROPERTY_PLACEHOLDER, "a b"),
                Path.of("/work/x"), Map.of("FOO", "1 2"));
        String s = GuestScripts.run(c, Path.of("/tmp/lab/scratch"));
        assertTrue(s.contains("export TMPDIR='/tmp/lab/scratch'"), s);
        assertTrue(s.contains("export FOO='1 2'"), s);
        assertTrue(s.contains("cd '/work/x' || exit 126"), s);
        assertTrue(s.endsWith("exec '/usr/bin/java' '-Djava.io.tmpdir=/tmp/lab/scratch' 'a b'\n"), s);
    }

    @Test
    void initLoadsModulesMountsTheHostTreeAndReportsLeaks() {
        String s = GuestScripts.init("STRATA-LAB-x", List.of("00-a.ko", "01-b.ko"), Path.of("/tmp/l/run.sh"), Path.of("/tmp/l/scratch"));
        assertTrue(s.contains("for m in 00-a.ko 01-b.ko; do"), s);
        assertTrue(s.contains("mount -t virtiofs strata-host /host"), s);
        assertTrue(s.contains("mount -t tmpfs -o mode=1777,size=80% scratch '/host/tmp/l/scratch'"), s);
        assertTrue(s.contains("chroot /host /bin/sh '/tmp/l/run.sh'"), s);
        assertTrue(s.contains("LEAK dm") && s.contains("LEAK loop") && s.contains("LEAK mount"), s);
        assertTrue(s.trim().endsWith("poweroff -f"), s);
    }

    @Test
    void deferredModulesLoadInTheBackgroundAndTheKernelsModprobeWaitsForThem() {
        String s = GuestScripts.init("STRATA-LAB-x", List.of("00-a.ko"), List.of("01-xfs.ko"), Path.of("/tmp/l/run.sh"), Path.of("/tmp/l/scratch"));
        assertTrue(s.contains("for m in 00-a.ko; do"), s);
        assertTrue(s.contains("(for m in 01-xfs.ko; do"), s);
        assertTrue(s.contains("done; rm -f /run/lab-modules-pending) &"), s);
        assertTrue(s.contains("echo /bin/lab-modprobe > /proc/sys/kernel/modprobe"), s);
        // the helper waits while the marker exists, and no longer than a minute
        assertTrue(s.contains("while [ -e /run/lab-modules-pending ] && [ $i -lt 1200 ]; do sleep 0.05"), s);
        // the background loads start before the command, and init waits for them before it powers off
        assertTrue(s.indexOf(") &") < s.indexOf("chroot /host"), s);
        assertTrue(s.indexOf("\nwait\n") > s.indexOf("chroot /host"), s);
        assertTrue(s.indexOf("\nwait\n") < s.indexOf("poweroff -f\n", s.indexOf("chroot /host")), s);
    }

    @Test
    void withoutDeferredModulesThereIsNoHelper() {
        String s = GuestScripts.init("STRATA-LAB-x", List.of("00-a.ko"), Path.of("/tmp/l/run.sh"), Path.of("/tmp/l/scratch"));
        assertTrue(!s.contains("lab-modprobe") && !s.contains(") &"), s);
    }
}
