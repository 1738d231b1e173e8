package dev.strata.driver.overlay;

import dev.strata.api.StorageDriver;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.StorageException;
import dev.strata.kit.TestTar;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Xattrs;

import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarReader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
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
class NativeDiffTest extends OnScratchFs {
    static List<String> entryNames(InputStream tar) throws IOException {
        List<String> names = new ArrayList<>();
        try (tar) {
            TarReader in = new TarReader(tar);
            TarHeader e;
            while ((e = in.next()) != null) names.add(TarHeader.utf8(e.name).replaceFirst("^\\./", ""));
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
        return new TestTar().dir("etc").file("etc/a", "A").file("etc/b", "B").file("gone", "G")
                .dir("opq").file("opq/old1", "1").file("opq/old2", "2").stream();
    }

    private static InputStream childTar() throws IOException {
        return new TestTar().file("new", "N").dir("etc").file("etc/a", "A2").file(".wh.gone", "")
                .dir("opq").file("opq/.wh..wh..opq", "").file("opq/fresh", "F")
                .symlink("sym", "etc/a").hardlink("hard", "new").stream();
    }

    @Test
    void applyWritesOverlayWhiteoutsWithoutMountingAndDiffReadsThemBack() throws Exception {
        StorageDriver d = open();
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
    }

    @Test
    void userxattrModeAppliesUserOverlayMarkers() throws Exception {
        StorageDriver d = open("overlay.userxattr=true");
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
    }

    @Test
    void aFailedApplyLeavesTheLayerAsItWas() throws Exception {
        StorageDriver d = open();
        d.create("base", null, CreateOptions.NONE);
        d.create("child", "base", CreateOptions.NONE);
        d.applyDiff("child", "base", new TestTar().file("before", "kept").stream());
        InputStream hostile = new TestTar().file("ok", "fine").file("../escape", "out").stream();
        StorageException e = assertThrows(StorageException.class, () -> d.applyDiff("child", "base", hostile));
        assertTrue(e.getMessage().contains("layer child unchanged"), e.getMessage());
        assertFalse(Files.exists(home.resolve("escape")) || Files.exists(home.resolve("child/escape")));
        assertTrue(d.exists("child"), "the layer existed before the apply");
        assertEquals(List.of("before"), Files.list(home.resolve("child/diff")).map(p -> p.getFileName().toString()).toList(),
                "the entry applied before the refused one is not in the layer");
        assertEquals(List.of("diff", "link", "lower", "work"), Files.list(home.resolve("child")).map(p -> p.getFileName().toString())
                .sorted().toList(), "the staged copy is gone");
        StorageDriver reopened = open();
        assertTrue(reopened.exists("child") && reopened.exists("base"));
    }

    @Test
    void whenNativeDiffIsUnsafeTheNaivePathAppliesThroughAMountedCopy() throws Exception {
        StorageDriver d = open("overlay.mountopt=metacopy=on");
        assertFalse(d.capabilities().nativeDiff());
        d.create("base", null, CreateOptions.NONE);
        d.applyDiff("base", null, baseTar());
        d.create("child", "base", CreateOptions.NONE);
        long size = d.applyDiff("child", "base", childTar());
        assertEquals(size, d.diffSize("child", "base"));
        assertEquals(0, d.references("child"), "the naive apply released its mount");
        Path root = d.get("child", "");
        try {
            assertFalse(Files.exists(root.resolve("gone")), "the whiteout was applied through the mount");
            assertEquals("A2", Files.readString(root.resolve("etc/a")));
        } finally {
            d.put("child");
        }
        d.create("bad", "base", CreateOptions.NONE);
        List<String> before = tree(home.resolve("bad"));
        InputStream hostile = new TestTar().file("ok", "fine").file("../escape", "out").stream();
        StorageException e = assertThrows(StorageException.class, () -> d.applyDiff("bad", "base", hostile));
        assertTrue(e.getMessage().contains("layer bad unchanged"), e.getMessage());
        assertTrue(d.exists("bad"), "a failed naive apply leaves the layer too");
        assertEquals(before, tree(home.resolve("bad")), "nothing of the failed apply, no copy, no mount");
        assertTrue(MountInfo.under(home).isEmpty(), "the copy's mount is gone");
    }

    /** Every path under {@code dir} (a layer's directory: its own mtime is not content) with its type, size and mtime. */
    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> {
                var st = PosixFiles.lstat(p);
                return dir.relativize(p) + " " + st.type() + " " + st.size() + " " + st.mtimeNanos();
            }).sorted().toList();
        }
    }
}
