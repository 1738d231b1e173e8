package dev.strata.driver.aufs;

import dev.strata.api.Support;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.StatFs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class AufsProbeTest {
    private static final String NO_AUFS = "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n";

    @TempDir
    Path tmp;
    final List<String> loaded = new ArrayList<>();

    private AufsProbe probe(String filesystems, boolean userns, long magic, AufsProbe.ModuleLoader loader) throws Exception {
        Path proc = tmp.resolve("filesystems");
        Files.writeString(proc, filesystems);
        return new AufsProbe(new AufsProbe.Facts(proc, tmp.resolve("lib/modules"), "6.1.0-test", () -> userns,
                loader, p -> new StatFs(magic, 4096, 0, 0, 0, 0, 0, 255, 0)));
    }

    private AufsProbe.ModuleLoader recording(String result) {
        return m -> {
            loaded.add(m);
            return result;
        };
    }

    @Test
    void aufsInProcFilesystemsIsSupportedWithoutLoadingAnything() throws Exception {
        Support s = probe(NO_AUFS + "nodev\taufs\n", false, StatFs.EXT4_MAGIC, recording(null)).probe(tmp);
        assertTrue(s.supported(), s.reason());
        assertTrue(s.reason().contains("backing filesystem extfs"), s.reason());
        assertEquals(List.of(), loaded);
    }

    @Test
    void noModuleTreeSaysWhatWasChecked() throws Exception {
        Support s = probe(NO_AUFS, false, StatFs.EXT4_MAGIC, recording(null)).probe(tmp);
        assertFalse(s.supported());
        assertEquals("aufs is not in this kernel: aufs not in " + tmp.resolve("filesystems") + "; no aufs module under "
                + tmp.resolve("lib/modules/6.1.0-test") + " (no such directory)", s.reason());
        assertEquals(List.of(), loaded, "no process is started when there is nothing to load");
    }

    @Test
    void aModuleTreeWithoutAufsIsNamed() throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("lib/modules/6.1.0-test"));
        Files.writeString(tree.resolve("modules.dep"), "kernel/fs/overlayfs/overlay.ko.xz:\nkernel/fs/btrfs/btrfs.ko.xz: kernel/lib/raid6/raid6_pq.ko.xz\n");
        Support s = probe(NO_AUFS, false, StatFs.EXT4_MAGIC, recording(null)).probe(tmp);
        assertTrue(s.reason().endsWith("no aufs module under " + tree), s.reason());
        assertEquals(List.of(), loaded);
    }

    @Test
    void aListedModuleIsLoadedAndThenSupported() throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("lib/modules/6.1.0-test"));
        Files.writeString(tree.resolve("modules.dep"), "updates/dkms/aufs.ko.zst:\n");
        Path proc = tmp.resolve("filesystems");
        AufsProbe p = probe(NO_AUFS, false, StatFs.XFS_MAGIC, m -> {
            loaded.add(m);
            try {
                Files.writeString(proc, "nodev\taufs\n", StandardOpenOption.APPEND); // what a successful modprobe does
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return null;
        });
        Support s = p.probe(tmp);
        assertTrue(s.supported(), s.reason());
        assertEquals(List.of("aufs"), loaded);
    }

    @Test
    void aModuleThatDoesNotLoadSaysWhy() throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("lib/modules/6.1.0-test/kernel/fs/aufs"));
        Files.writeString(tree.resolve("aufs.ko"), ""); // no modules.dep: found by walking the tree
        Support s = probe(NO_AUFS, false, StatFs.EXT4_MAGIC, recording("modprobe is not installed")).probe(tmp);
        assertFalse(s.supported());
        assertTrue(s.reason().endsWith(tree.resolve("aufs.ko") + " did not load: modprobe is not installed"), s.reason());
    }

    @Test
    void aUserNamespaceGetsMobysMessage() throws Exception {
        Support s = probe(NO_AUFS + "nodev\taufs\n", true, StatFs.EXT4_MAGIC, recording(null)).probe(tmp);
        assertEquals(new Support(false, "AUFS cannot be used in non-init user namespace"), s);
    }

    @Test
    void aufsBtrfsAndEcryptfsBackingsGetMobysMessage() throws Exception {
        String with = NO_AUFS + "nodev\taufs\n";
        assertEquals("AUFS is not supported over btrfs", probe(with, false, StatFs.BTRFS_MAGIC, recording(null)).probe(tmp).reason());
        assertEquals("AUFS is not supported over ecryptfs", probe(with, false, StatFs.ECRYPTFS_MAGIC, recording(null)).probe(tmp).reason());
        assertEquals("AUFS is not supported over aufs", probe(with, false, StatFs.AUFS_MAGIC, recording(null)).probe(tmp).reason());
    }

    /** The real answer on this machine, whose kernel (like every mainline one) has no aufs. */
    @Test
    void thisKernel() {
        assumeFalse(Kernel.hasFilesystem("aufs"), "this kernel has aufs");
        Support s = new AufsProvider().probe(tmp.resolve("aufs"));
        assertFalse(s.supported());
        assertTrue(s.reason().startsWith("aufs is not in this kernel: aufs not in /proc/filesystems; "), s.reason());
        assertTrue(s.reason().contains("/lib/modules/" + Kernel.release()), s.reason());
    }
}
