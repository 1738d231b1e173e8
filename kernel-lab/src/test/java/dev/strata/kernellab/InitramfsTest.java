package dev.strata.kernellab;

import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class InitramfsTest {
    @TempDir
    Path tmp;

    @Test
    void archiveHoldsBusyboxModulesInOrderAndInit() throws Exception {
        Path busybox = Path.of("/bin/busybox");
        assumeTrue(Files.isRegularFile(busybox), "busybox-static is not installed");
        Path a = Files.writeString(tmp.resolve("dm-mod.ko"), "module a");
        Path b = tmp.resolve("loop.ko.gz");
        try (var out = new GZIPOutputStream(Files.newOutputStream(b))) {
            out.write("module b".getBytes(StandardCharsets.UTF_8));
        }
        Path out = tmp.resolve("initramfs.cpio");
        Initramfs.write(out, busybox, List.of(a, b), "#!/bin/busybox sh\necho hi\n");
        Map<String, CpioArchiveEntry> entries = new LinkedHashMap<>();
        Map<String, byte[]> data = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(out); CpioArchiveInputStream cpio = new CpioArchiveInputStream(in)) {
            CpioArchiveEntry e;
            while ((e = (CpioArchiveEntry) cpio.getNextEntry()) != null) {
                entries.put(e.getName(), e);
                data.put(e.getName(), cpio.readAllBytes());
            }
        }
        assertEquals(List.of("00-dm-mod.ko", "01-loop.ko"), Initramfs.archiveNames(List.of(a, b)));
        assertArrayEquals("module b".getBytes(StandardCharsets.UTF_8), data.get("lib/modules/01-loop.ko"), "gzip modules are unpacked");
        assertEquals(0100755, entries.get("init").getMode());
        assertEquals("#!/bin/busybox sh\necho hi\n", new String(data.get("init"), StandardCharsets.UTF_8));
        assertEquals(Files.size(busybox), data.get("bin/busybox").length);
        CpioArchiveEntry console = entries.get("dev/console");
        assertEquals(020600, console.getMode());
        assertEquals(5, console.getRemoteDeviceMaj());
        assertEquals(1, console.getRemoteDeviceMin());
        assertEquals(entries.size(), entries.values().stream().map(CpioArchiveEntry::getInode).distinct().count(), "no two entries share an inode");
    }

    @Test
    void aDynamicBusyboxIsRefused() {
        Path ls = Path.of("/bin/ls");
        assumeTrue(Files.isRegularFile(ls), "no /bin/ls");
        var e = assertThrows(KernelLabException.class, () -> Initramfs.checkStaticBusybox(ls));
        assertTrue(e.getMessage().contains("dynamically linked") && e.getMessage().contains("busybox-static"), e.getMessage());
    }
}
