package dev.strata.archive;

import dev.strata.testsupport.Tmpfs;
import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarReader;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.Xattrs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** On-disk whiteouts in, OCI whiteouts in the tar, each driver's on-disk format out. */
class WhiteoutTest {
    private Tmpfs fs;

    @BeforeEach
    void mount() {
        fs = Tmpfs.mount("256m");
    }

    @AfterEach
    void unmount() {
        if (fs != null) fs.close();
    }

    /** An overlay upper: a whiteout for "gone", an opaque "opq" holding "new", a changed file. */
    private Path overlayUpper(String opaqueXattr) throws Exception {
        Path upper = fs.dir("upper");
        PosixFiles.mknod(upper.resolve("gone"), Stat.S_IFCHR, 0);
        Files.createDirectories(upper.resolve("opq"));
        Xattrs.set(upper.resolve("opq"), opaqueXattr, new byte[]{'y'});
        Xattrs.set(upper.resolve("opq"), "trusted.overlay.origin", new byte[]{1, 2, 3});
        Files.writeString(upper.resolve("opq/new"), "new\n");
        Files.writeString(upper.resolve("changed"), "changed\n");
        return upper;
    }

    private static List<String> names(byte[] tar) {
        List<String> out = new ArrayList<>();
        TarReader r = new TarReader(new ByteArrayInputStream(tar));
        for (TarHeader h; (h = r.next()) != null; ) {
            out.add(h.displayName() + (h.xattrs.isEmpty() ? "" : " " + h.xattrs.keySet()));
        }
        return out;
    }

    private static byte[] upperTar(Path upper, WhiteoutFormat f, List<Path> lowers) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        LayerArchive.writeUpper(upper, f, lowers, b);
        return b.toByteArray();
    }

    @Test
    void overlayUpperBecomesOciWhiteoutsWithoutOverlayXattrs() throws Exception {
        Path upper = overlayUpper("trusted.overlay.opaque");
        Path lower = fs.dir("lower");
        Files.createDirectories(lower.resolve("opq"));
        assertEquals(List.of("changed", ".wh.gone", "opq/", "opq/.wh..wh..opq", "opq/new"), names(upperTar(upper, WhiteoutFormat.OVERLAY, List.of(lower))));
        // no lower has "opq": the marker would change nothing, so it is left out
        assertEquals(List.of("changed", ".wh.gone", "opq/", "opq/new"), names(upperTar(upper, WhiteoutFormat.OVERLAY, List.of(fs.dir("empty")))));
    }

    @Test
    void userxattrUpperReadsUserOverlayOpaque() throws Exception {
        Path upper = overlayUpper("user.overlay.opaque");
        assertEquals(List.of("changed", ".wh.gone", "opq/", "opq/.wh..wh..opq", "opq/new"), names(upperTar(upper, WhiteoutFormat.OVERLAY_USERXATTR, null)));
    }

    @Test
    void eachFormatWritesItsOwnWhiteouts() throws Exception {
        byte[] tar = upperTar(overlayUpper("trusted.overlay.opaque"), WhiteoutFormat.OVERLAY, null);

        Path ov = fs.dir("ov");
        LayerArchive.apply(ov, new ByteArrayInputStream(tar), ApplyOptions.of(WhiteoutFormat.OVERLAY));
        Stat gone = PosixFiles.statx(null, ov.resolve("gone").toString(), PosixFiles.AT_SYMLINK_NOFOLLOW);
        assertTrue(gone.isWhiteout(), "overlay whiteout is a char 0/0");
        assertArrayEquals(new byte[]{'y'}, Xattrs.get(ov.resolve("opq"), "trusted.overlay.opaque"));
        assertNull(Xattrs.get(ov.resolve("opq"), "trusted.overlay.origin"), "overlay's own xattrs never travel");

        Path ux = fs.dir("ux");
        LayerArchive.apply(ux, new ByteArrayInputStream(tar), ApplyOptions.of(WhiteoutFormat.OVERLAY_USERXATTR));
        assertArrayEquals(new byte[]{'y'}, Xattrs.get(ux.resolve("opq"), "user.overlay.opaque"));
        assertNull(Xattrs.get(ux.resolve("opq"), "trusted.overlay.opaque"));

        Path aufs = fs.dir("aufs");
        LayerArchive.apply(aufs, new ByteArrayInputStream(tar), ApplyOptions.of(WhiteoutFormat.AUFS));
        assertTrue(Files.isRegularFile(aufs.resolve(".wh.gone")));
        assertTrue(Files.isRegularFile(aufs.resolve("opq/.wh..wh..opq")));
        assertFalse(Files.exists(aufs.resolve("gone"), java.nio.file.LinkOption.NOFOLLOW_LINKS));

        Path vfs = fs.dir("vfs"); // a full tree: the lower's content is there and gets deleted in place
        Files.writeString(vfs.resolve("gone"), "old\n");
        Files.createDirectories(vfs.resolve("opq/sub"));
        Files.writeString(vfs.resolve("opq/old"), "old\n");
        Files.writeString(vfs.resolve("kept"), "kept\n");
        LayerArchive.apply(vfs, new ByteArrayInputStream(tar), ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        assertFalse(Files.exists(vfs.resolve("gone")));
        try (var list = Files.list(vfs.resolve("opq"))) {
            assertEquals(List.of("new"), list.map(p -> p.getFileName().toString()).toList());
        }
        assertTrue(Files.exists(vfs.resolve("kept")));
        assertEquals("changed\n", Files.readString(vfs.resolve("changed")));
    }

    @Test
    void overlayUpperSurvivesDiffThenApplyExactly() throws Exception {
        Path upper = overlayUpper("trusted.overlay.opaque");
        Xattrs.remove(upper.resolve("opq"), "trusted.overlay.origin");
        PosixFiles.utimensat(null, upper.resolve("gone").toString(), 0, 1_500_000_000_000_000_001L, PosixFiles.AT_SYMLINK_NOFOLLOW);
        Path copy = fs.dir("copy");
        LayerArchive.apply(copy, new ByteArrayInputStream(upperTar(upper, WhiteoutFormat.OVERLAY, null)), ApplyOptions.of(WhiteoutFormat.OVERLAY));
        // the roots differ (writeUpper has no "./" entry); compare what is inside
        Path a = fs.dir("a"), b = fs.dir("b");
        TreeTools.run(null, "cp", "-a", upper + "/.", a.toString());
        TreeTools.run(null, "cp", "-a", copy + "/.", b.toString());
        PosixFiles.utimensat(null, a.toString(), 0, 0, 0);
        PosixFiles.utimensat(null, b.toString(), 0, 0, 0);
        TreeTools.assertSameTree(a, b);
    }

    @Test
    void aufsUpperKeepsWhiteoutsAndNeverItsMetadata() throws Exception {
        Path upper = fs.dir("aufs-upper");
        Files.createDirectories(upper.resolve(".wh..wh.plnk"));
        Files.writeString(upper.resolve(".wh..wh.plnk/123.456"), "x");
        Files.writeString(upper.resolve(".wh..wh.aufs"), "");
        Files.createDirectories(upper.resolve(".wh..wh.orph"));
        Files.createLink(upper.resolve(".wh.gone"), upper.resolve(".wh..wh.aufs")); // aufs hardlinks its whiteouts
        Files.createDirectories(upper.resolve("d"));
        Files.createLink(upper.resolve("d/.wh.gone2"), upper.resolve(".wh..wh.aufs"));
        Files.writeString(upper.resolve("d/.wh..wh..opq"), "");
        assertEquals(List.of(".wh.gone", "d/", "d/.wh..wh..opq", "d/.wh.gone2"), names(upperTar(upper, WhiteoutFormat.AUFS, null)));
    }

    @Test
    void realOverlayMountDiffedFromItsUpperAppliesOntoTheLowerAsTheMergedView() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.strata.nativeio.Kernel.hasFilesystem("overlay"), "overlay not in /proc/filesystems");
        Path lower = fs.dir("lower"), upper = fs.dir("upper"), work = fs.dir("work"), merged = fs.dir("merged");
        Files.createDirectories(lower.resolve("dir/sub"));
        Files.writeString(lower.resolve("dir/sub/old"), "old\n");
        Files.writeString(lower.resolve("dir/keep"), "keep\n");
        Files.writeString(lower.resolve("file"), "file\n");
        Files.writeString(lower.resolve("deleted"), "deleted\n");
        Mounts.mount("overlay", merged, "overlay", 0, "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work);
        try {
            Files.delete(merged.resolve("deleted"));
            TreeTools.run(null, "rm", "-rf", merged.resolve("dir").toString());
            Files.createDirectories(merged.resolve("dir"));
            Files.writeString(merged.resolve("dir/new"), "new\n");
            Files.writeString(merged.resolve("file"), "rewritten\n");
            Files.writeString(merged.resolve("added"), "added\n");
        } finally {
            Mounts.unmount(merged, 0);
        }
        // what overlay shows: the upper as a read-only layer over the lower, copied out
        Path expected = fs.dir("expected");
        Mounts.mount("overlay", merged, "overlay", Mounts.MS_RDONLY, "lowerdir=" + upper + ":" + lower);
        try {
            TreeTools.run(null, "cp", "-a", merged + "/.", expected.toString());
        } finally {
            Mounts.unmount(merged, 0);
        }
        Path vfs = fs.dir("vfs");
        TreeTools.run(null, "cp", "-a", lower + "/.", vfs.toString());
        LayerArchive.apply(vfs, new ByteArrayInputStream(upperTar(upper, WhiteoutFormat.OVERLAY, List.of(lower))),
                ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        PosixFiles.utimensat(null, vfs.toString(), 0, 0, 0);
        PosixFiles.utimensat(null, expected.toString(), 0, 0, 0);
        TreeTools.assertSameTree(expected, vfs);

        assertEquals(List.of("A /added", "D /deleted", "D /dir", "A /dir/new", "C /file").toString(),
                TreeChanges.ofUpper(upper, WhiteoutFormat.OVERLAY, List.of(lower)).toString());
    }
}
