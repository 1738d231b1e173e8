package dev.strata.driver.overlay;

import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.StorageException;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Xattrs;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Native diff: applyDiff writes overlay whiteouts straight into the diff dir; diff and changes read it back. */
class NativeDiffTest {
    @TempDir
    Path tmp;
    ScratchFs fs;
    Path home;

    @BeforeEach
    void mount() throws Exception {
        ArchiveReady.assume();
        fs = ScratchFs.mount(tmp);
        home = fs.root.resolve("overlay");
    }

    @AfterEach
    void unmount() {
        if (fs != null) fs.close();
    }

    /** A tar built in memory: {@code file(name, text)}, {@code dir(name)}, {@code symlink}, {@code hardlink}. */
    static final class Tar {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream out = new TarArchiveOutputStream(bytes);

        Tar() {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        }

        Tar dir(String name) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
            e.setMode(040755);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        Tar file(String name, String text) throws IOException {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(0100644);
            e.setSize(b.length);
            out.putArchiveEntry(e);
            out.write(b);
            out.closeArchiveEntry();
            return this;
        }

        Tar symlink(String name, String target) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
            e.setLinkName(target);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        Tar hardlink(String name, String target) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
            e.setLinkName(target);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
            return this;
        }

        InputStream stream() throws IOException {
            out.close();
            return new ByteArrayInputStream(bytes.toByteArray());
        }
    }

    static List<String> entryNames(InputStream tar) throws IOException {
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(tar)) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) names.add(e.getName().replaceFirst("^\\./", ""));
        }
        return names;
    }

    /** Every path under a root with its content (files), target (symlinks) or "dir". */
    static TreeMap<String, String> snapshot(Path root) throws IOException {
        TreeMap<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                if (p.equals(root)) continue;
                String rel = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) m.put(rel, "-> " + Files.readSymbolicLink(p));
                else if (Files.isDirectory(p)) m.put(rel, "dir");
                else m.put(rel, Files.readString(p));
            }
        }
        return m;
    }

    private static InputStream baseTar() throws IOException {
        return new Tar().dir("etc").file("etc/a", "A").file("etc/b", "B").file("gone", "G")
                .dir("opq").file("opq/old1", "1").file("opq/old2", "2").stream();
    }

    private static InputStream childTar() throws IOException {
        return new Tar().file("new", "N").dir("etc").file("etc/a", "A2").file(".wh.gone", "")
                .dir("opq").file("opq/.wh..wh..opq", "").file("opq/fresh", "F")
                .symlink("sym", "etc/a").hardlink("hard", "new").stream();
    }

    @Test
    void applyWritesOverlayWhiteoutsWithoutMountingAndDiffReadsThemBack() throws Exception {
        OverlayDriver d = ScratchFs.open(home);
        try {
            assertTrue(d.capabilities().nativeDiff());
            d.create("base", null, CreateOptions.NONE);
            d.applyDiff("base", null, baseTar());
            d.create("child", "base", CreateOptions.NONE);
            long size = d.applyDiff("child", "base", childTar());

            assertTrue(MountInfo.under(home).stream().noneMatch(m -> m.fsType().equals("overlay")), "native apply mounts nothing");
            Path upper = home.resolve("child/diff");
            assertTrue(PosixFiles.lstat(upper.resolve("gone")).isWhiteout(), "a .wh. entry becomes a char 0/0 whiteout");
            assertArrayEquals("y".getBytes(), Xattrs.get(upper.resolve("opq"), "trusted.overlay.opaque"));
            assertFalse(Files.exists(upper.resolve("opq/.wh..wh..opq")));
            assertFalse(Files.exists(upper.resolve(".wh.gone")));
            assertEquals(size, d.diffSize("child", "base"), "applyDiff returns what diffSize reports");

            Path root = d.get("child", "");
            TreeMap<String, String> merged;
            try {
                merged = snapshot(root);
            } finally {
                d.put("child");
            }
            assertFalse(merged.containsKey("gone"));
            assertEquals("dir", merged.get("opq"));
            assertEquals("F", merged.get("opq/fresh"));
            assertFalse(merged.containsKey("opq/old1"), "the opaque dir hides the lower's content");
            assertEquals("A2", merged.get("etc/a"));
            assertEquals("B", merged.get("etc/b"));
            assertEquals("-> etc/a", merged.get("sym"));
            assertEquals("N", merged.get("hard"));

            List<String> names = entryNames(d.diff("child", "base"));
            assertTrue(names.containsAll(List.of("new", "etc/a", ".wh.gone", "opq/.wh..wh..opq", "opq/fresh", "sym", "hard")), names.toString());
            assertFalse(names.contains("etc/b"), "the native diff holds only what the layer changed: " + names);

            List<Change> changes = d.changes("child", "base");
            assertTrue(changes.contains(new Change("/gone", Change.Kind.DELETE)), changes.toString());
            assertTrue(changes.contains(new Change("/new", Change.Kind.ADD)), changes.toString());
            assertTrue(changes.contains(new Change("/etc/a", Change.Kind.MODIFY)), changes.toString());
            assertFalse(changes.stream().anyMatch(c -> c.path().equals("/etc/b")), changes.toString());

            // The diff applied onto the same parent gives the same merged tree.
            d.create("copy", "base", CreateOptions.NONE);
            d.applyDiff("copy", "base", d.diff("child", "base"));
            Path copy = d.get("copy", "");
            try {
                assertEquals(merged, snapshot(copy));
            } finally {
                d.put("copy");
            }

            // Not against its own parent: the naive diff (mount and walk) answers, with the whole tree.
            List<String> whole = entryNames(d.diff("child", null));
            assertTrue(whole.contains("etc/b") && !whole.contains(".wh.gone"), whole.toString());
            assertEquals(0, d.references("child"), "the naive diff released its mount on close");
        } finally {
            d.cleanup();
        }
    }

    @Test
    void userxattrModeAppliesUserOverlayMarkers() throws Exception {
        OverlayDriver d = ScratchFs.open(home, "overlay.userxattr=true");
        try {
            d.create("base", null, CreateOptions.NONE);
            d.applyDiff("base", null, baseTar());
            d.create("child", "base", CreateOptions.NONE);
            d.applyDiff("child", "base", childTar());
            Path upper = home.resolve("child/diff");
            assertArrayEquals("y".getBytes(), Xattrs.get(upper.resolve("opq"), "user.overlay.opaque"));
            assertNull(Xattrs.get(upper.resolve("opq"), "trusted.overlay.opaque"));
            Path root = d.get("child", "");
            try {
                assertEquals(List.of("fresh"), Files.list(root.resolve("opq")).map(p -> p.getFileName().toString()).toList());
                assertFalse(Files.exists(root.resolve("gone")));
            } finally {
                d.put("child");
            }
            assertTrue(entryNames(d.diff("child", "base")).contains("opq/.wh..wh..opq"));
        } finally {
            d.cleanup();
        }
    }

    @Test
    void aFailedApplyLeavesNoLayerBehind() throws Exception {
        OverlayDriver d = ScratchFs.open(home);
        d.create("base", null, CreateOptions.NONE);
        d.create("child", "base", CreateOptions.NONE);
        InputStream hostile = new Tar().file("ok", "fine").file("../escape", "out").stream();
        assertThrows(StorageException.class, () -> d.applyDiff("child", "base", hostile));
        assertFalse(Files.exists(home.resolve("escape")) || Files.exists(home.resolve("child/escape")));
        assertFalse(d.exists("child"), "a layer whose apply failed is not reported");
        assertFalse(d.layers().contains("child"));
        OverlayDriver reopened = ScratchFs.open(home);
        assertFalse(Files.exists(home.resolve("child")), "and the next open removes it");
        assertTrue(reopened.exists("base"));
        reopened.cleanup();
    }
}
