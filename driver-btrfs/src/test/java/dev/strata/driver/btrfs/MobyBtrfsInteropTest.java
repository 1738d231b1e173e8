package dev.strata.driver.btrfs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarReader;
import dev.strata.nativeio.Xattrs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both directions against moby 20.10's btrfs driver (its Go package, run by {@link MobyPeer}) on one loop btrfs:
 * layers moby writes are layers here, with their parents, their content, their changes and diffs as moby reports
 * them, and their size limits; layers Strata writes read, diff and remove the same in moby. The layers hold what
 * a diff has to get right: a whiteout of a file and of a directory, an opaque directory, a changed file, a
 * symlink, a hard link, owners, modes and a {@code user.} xattr.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MobyBtrfsInteropTest {
    private static final long MIB = 1 << 20;
    private LoopBtrfs btrfs;
    private Path peer;
    private Path baseTar;
    private Path childTar;

    @BeforeAll
    void setUp() throws Exception {
        peer = MobyPeer.build();
        btrfs = LoopBtrfs.make();
        baseTar = tarOf(baseTree(btrfs.scratch("base-tree")), btrfs.scratch("tars").resolve("base.tar"));
        childTar = tarOf(childTree(btrfs.scratch("child-tree")), btrfs.scratch("tars").resolve("child.tar"));
    }

    @AfterAll
    void tearDown() throws IOException {
        if (btrfs != null) btrfs.close();
    }

    @Test
    void layersMobyWroteAreLayersHereWithTheSameChangesDiffsAndLimits() throws Exception {
        Path root = btrfs.newRoot("moby-first");
        MobyPeer moby = MobyPeer.at(peer, root);
        moby.run("create", "base");
        moby.run("apply", "base", "", baseTar.toString());
        moby.run("create", "child", "base");
        moby.run("apply", "child", "base", childTar.toString());
        moby.run("create-rw", "rw", "child", "size=20M");
        Set<String> mobyChanges = changesOf(moby.run("changes", "child", "base"));
        Path mobyDiff = btrfs.scratch("moby-first").resolve("diff.tar");
        moby.run("diff", "child", "base", mobyDiff.toString());

        StorageDriver d = LoopBtrfs.open(root);
        try {
            assertEquals(Set.of("base", "child", "rw"), Set.copyOf(d.layers()));
            assertNull(d.parent("base"));
            assertEquals("base", d.parent("child"), "parent from the snapshot's parent uuid");
            assertEquals("child", d.parent("rw"));
            assertChildContent(d, "child");
            assertEquals(mobyChanges, changesOf(d.changes("child", "base")), "changes of moby's layer");
            try (InputStream diff = d.diff("child", "base")) {
                assertEquals(entries(Files.newInputStream(mobyDiff)), entries(diff), "diff of moby's layer");
            }
            // moby's Cleanup turned quotas off, dropping every limit: opening put it back from quotas/rw.
            assertWriteFails(d, "rw");

            d.create("on-moby", "child", CreateOptions.NONE);
            try (InputStream in = Files.newInputStream(childTar)) {
                d.applyDiff("on-moby", "child", in);
            }
            d.remove("on-moby");
            d.remove("rw");
        } finally {
            d.cleanup();
        }
        assertEquals("false", moby.run("exists", "rw"));
        assertEquals("true", moby.run("exists", "child"));
    }

    @Test
    void layersStrataWroteReadDiffAndRemoveTheSameInMoby() throws Exception {
        Path root = btrfs.newRoot("strata-first");
        StorageDriver d = LoopBtrfs.open(root);
        Set<String> strataChanges;
        Set<String> strataDiff;
        try {
            d.create("base", null, CreateOptions.NONE);
            try (InputStream in = Files.newInputStream(baseTar)) {
                d.applyDiff("base", null, in);
            }
            d.create("child", "base", CreateOptions.NONE);
            try (InputStream in = Files.newInputStream(childTar)) {
                d.applyDiff("child", "base", in);
            }
            d.createReadWrite("rw", "child", CreateOptions.of(Map.of("size", "20M")));
            strataChanges = changesOf(d.changes("child", "base"));
            try (InputStream diff = d.diff("child", "base")) {
                strataDiff = entries(diff);
            }
        } finally {
            d.cleanup();
        }

        MobyPeer moby = MobyPeer.at(peer, root);
        assertEquals(root.resolve("btrfs/subvolumes/child").toString(), moby.run("get", "child"));
        assertEquals(strataChanges, changesOf(moby.run("changes", "child", "base")), "moby's changes of Strata's layer");
        Path mobyDiff = btrfs.scratch("strata-first").resolve("diff.tar");
        moby.run("diff", "child", "base", mobyDiff.toString());
        assertEquals(strataDiff, entries(Files.newInputStream(mobyDiff)), "moby's diff of Strata's layer");
        assertEquals("20971520", Files.readString(root.resolve("btrfs/quotas/rw")), "the quota file moby reads");
        moby.run("create", "moby-child", "child");
        moby.run("remove", "moby-child");
        moby.run("remove", "rw");

        StorageDriver again = LoopBtrfs.open(root);
        try {
            assertEquals(Set.of("base", "child"), Set.copyOf(again.layers()));
            assertFalse(again.exists("rw"));
            assertChildContent(again, "child");
            again.remove("child");
            again.remove("base");
            assertEquals(List.of(), again.layers());
        } finally {
            again.cleanup();
        }
    }

    // ---------------------------------------------------------------------------------------------- fixtures

    private static Path baseTree(Path t) throws IOException {
        Files.createDirectories(t.resolve("etc"));
        Files.writeString(t.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Files.writeString(t.resolve("etc/shadow"), "root:*:1::::::\n");
        Files.setPosixFilePermissions(t.resolve("etc/shadow"), PosixFilePermissions.fromString("rw-------"));
        Files.createDirectories(t.resolve("bin"));
        Files.writeString(t.resolve("bin/sh"), "#!/bin/true\n");
        Files.setPosixFilePermissions(t.resolve("bin/sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(t.resolve("bin/ln"), Path.of("sh"));
        Files.createLink(t.resolve("bin/hard"), t.resolve("bin/sh"));
        Files.createDirectories(t.resolve("opq/sub"));
        Files.writeString(t.resolve("opq/x"), "x");
        Files.writeString(t.resolve("opq/sub/y"), "y");
        Files.createDirectories(t.resolve("gone"));
        Files.writeString(t.resolve("gone/z"), "z");
        Files.writeString(t.resolve("owned"), "by 1000");
        Files.setAttribute(t.resolve("owned"), "unix:uid", 1000);
        Files.setAttribute(t.resolve("owned"), "unix:gid", 1000);
        Files.writeString(t.resolve("xattr"), "x");
        Xattrs.set(t.resolve("xattr"), "user.strata", new byte[]{0, 1, 2, (byte) 0xff});
        return t;
    }

    /** A diff: whiteouts of a directory and a symlink, an opaque directory, a changed and a new file. */
    private static Path childTree(Path t) throws IOException {
        Files.writeString(t.resolve(".wh.gone"), "");
        Files.createDirectories(t.resolve("opq"));
        Files.writeString(t.resolve("opq/.wh..wh..opq"), "");
        Files.writeString(t.resolve("opq/new"), "new");
        Files.createDirectories(t.resolve("etc"));
        Files.writeString(t.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/ash\n");
        Files.createDirectories(t.resolve("bin"));
        Files.writeString(t.resolve("bin/.wh.ln"), "");
        Files.writeString(t.resolve("added"), "added");
        return t;
    }

    private static void assertChildContent(StorageDriver d, String id) throws IOException {
        Path r = d.get(id, null);
        try {
            assertEquals("root:x:0:0:root:/root:/bin/ash\n", Files.readString(r.resolve("etc/passwd")));
            assertFalse(Files.exists(r.resolve("gone")));
            assertFalse(Files.exists(r.resolve("bin/ln"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertEquals(Set.of("new"), Files.list(r.resolve("opq")).map(p -> p.getFileName().toString()).collect(Collectors.toSet()));
            assertEquals(Files.getAttribute(r.resolve("bin/sh"), "unix:ino"), Files.getAttribute(r.resolve("bin/hard"), "unix:ino"));
            assertEquals(1000, Files.getAttribute(r.resolve("owned"), "unix:uid"));
            assertEquals("00 01 02 ff", HexFormat.ofDelimiter(" ").formatHex(Xattrs.get(r.resolve("xattr"), "user.strata")));
        } finally {
            d.put(id);
        }
    }

    private static void assertWriteFails(StorageDriver d, String id) throws IOException {
        Path r = d.get(id, null);
        try {
            byte[] buf = new byte[(int) MIB];
            IOException e = assertThrows(IOException.class, () -> {
                try (OutputStream out = Files.newOutputStream(r.resolve("fill"))) {
                    for (int i = 0; i < 40; i++) out.write(buf);
                }
                try (var ch = java.nio.channels.FileChannel.open(r.resolve("fill"), java.nio.file.StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }, "40 MiB went into a layer moby limited to 20M");
            assertTrue(String.valueOf(e.getMessage()).contains("Disk quota exceeded"), e.toString());
        } finally {
            d.put(id);
        }
    }

    private static Path tarOf(Path tree, Path out) throws IOException {
        try (OutputStream o = Files.newOutputStream(out)) {
            LayerArchive.writeTree(tree, o);
        }
        return out;
    }

    private static Set<String> changesOf(List<Change> changes) {
        return changes.stream().map(c -> switch (c.kind()) {
            case ADD -> "A";
            case MODIFY -> "C";
            case DELETE -> "D";
        } + " " + c.path()).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> changesOf(String mobyJson) throws IOException {
        Set<String> out = new TreeSet<>();
        for (JsonNode c : new ObjectMapper().readTree(mobyJson)) out.add(c.get("kind").asText() + " " + c.get("path").asText());
        return out;
    }

    /** Each entry of a tar as one line: name, type, mode, owner, size, link, content digest, xattrs, mtime (s) but a whiteout's. */
    private static Set<String> entries(InputStream tar) throws Exception {
        Set<String> out = new TreeSet<>();
        try (tar) {
            TarReader r = new TarReader(tar);
            TarHeader h;
            while ((h = r.next()) != null) {
                String name = TarHeader.utf8(h.name).replaceFirst("^\\./", "").replaceFirst("/$", "");
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[8192];
                for (int n; (n = r.read(buf, 0, buf.length)) > 0; ) sha.update(buf, 0, n);
                String xattrs = h.xattrs.entrySet().stream().map(e -> e.getKey() + "=" + HexFormat.of().formatHex(e.getValue()))
                        .collect(Collectors.joining(","));
                out.add(String.join(" ", name.isEmpty() ? "." : name, String.valueOf((char) h.type), Integer.toOctalString(h.mode & 07777),
                        h.uid + ":" + h.gid, Long.toString(h.isRegular() ? h.size : 0), TarHeader.utf8(h.linkName).replaceFirst("^\\./", ""),
                        h.isRegular() ? HexFormat.of().formatHex(sha.digest()).substring(0, 16) : "-", "[" + xattrs + "]",
                        // A whiteout's time means nothing: moby stamps it with the time of the diff, Strata with 0.
                        name.substring(name.lastIndexOf('/') + 1).startsWith(".wh.") ? "-" : Long.toString(Math.floorDiv(h.mtimeNanos, 1_000_000_000L))));
            }
        }
        return out;
    }
}
