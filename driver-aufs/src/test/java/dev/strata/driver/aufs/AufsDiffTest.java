package dev.strata.driver.aufs;

import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.testsupport.Tmpfs;
import dev.strata.api.Change;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.UnsafeEntryException;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.Xattrs;
import dev.strata.driver.aufs.TarFixtures.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.strata.api.Change.Kind.ADD;
import static dev.strata.api.Change.Kind.DELETE;
import static dev.strata.api.Change.Kind.MODIFY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * diff, changes and apply on the diff directories, where aufs keeps whiteouts as {@code .wh.} files: against the
 * direct parent none of them mounts anything, so all of this runs without an aufs kernel.
 */
class AufsDiffTest {
    @TempDir
    Path tmp;
    Tmpfs fs;
    Path home;
    StorageDriver d;

    @BeforeEach
    void open() throws Exception {
        fs = Tmpfs.at(tmp, "512m");
        home = tmp.resolve("aufs");
        d = AufsTests.open(home);
        d.create("base", null, null);
        Path b = home.resolve("diff/base");
        Files.createDirectories(b.resolve("etc"));
        Files.writeString(b.resolve("etc/hosts"), "127.0.0.1 localhost\n");
        Files.writeString(b.resolve("etc/old"), "old\n");
        Files.writeString(b.resolve("gone"), "gone\n");
        Files.createDirectories(b.resolve("opaque"));
        Files.writeString(b.resolve("opaque/stale"), "stale\n");
        d.create("upper", "base", null);
    }

    @AfterEach
    void close() {
        d.cleanup();
        fs.close();
    }

    /** What aufs itself leaves in a branch: whiteouts hardlinked to .wh..wh.aufs, pseudo-links, orphans. */
    private void writeUpperAsAufsWould() throws Exception {
        Path u = home.resolve("diff/upper");
        Files.writeString(u.resolve("new.txt"), "new\n");
        Files.createDirectories(u.resolve("etc"));
        Files.writeString(u.resolve("etc/hosts"), "10.0.0.1 host\n");
        Path base = Files.createFile(u.resolve(".wh..wh.aufs"));
        Files.createLink(u.resolve(".wh.gone"), base);
        Files.createLink(u.resolve("etc/.wh.old"), base);
        Files.createDirectories(u.resolve("opaque"));
        Files.createLink(u.resolve("opaque/.wh..wh..opq"), base);
        Files.writeString(u.resolve("opaque/fresh"), "fresh\n");
        Files.createDirectories(u.resolve(".wh..wh.plnk"));
        Files.createLink(u.resolve(".wh..wh.plnk/4242.77"), u.resolve("new.txt"));
        Files.createDirectories(u.resolve(".wh..wh.orph/leftover"));
    }

    private static boolean isAufsMeta(String path) {
        for (String part : path.split("/")) {
            if (part.equals(".wh..wh.plnk") || part.equals(".wh..wh.aufs") || part.equals(".wh..wh.orph")) return true;
        }
        return false;
    }

    @Test
    void diffAgainstTheDirectParentIsTheDiffDirWithOciWhiteoutsAndNoAufsMeta() throws Exception {
        writeUpperAsAufsWould();
        List<Entry> tar;
        try (InputStream in = d.diff("upper", "base")) {
            tar = TarFixtures.read(in);
        }
        Set<String> names = new HashSet<>();
        for (Entry e : tar) {
            assertFalse(isAufsMeta(e.name()), "aufs bookkeeping in the diff: " + e);
            names.add(e.name());
        }
        assertTrue(names.containsAll(List.of("new.txt", "etc", "etc/hosts", ".wh.gone", "etc/.wh.old", "opaque",
                "opaque/.wh..wh..opq", "opaque/fresh")), names.toString());
        for (Entry e : tar) {
            if (e.name().contains(".wh.")) {
                assertEquals('f', e.type(), "a whiteout is an empty regular file in the tar, not a link to aufs's base: " + e);
                assertEquals("", e.content());
            }
            if (e.type() == 'h') assertTrue(names.contains(e.link()), "hardlink to an entry not in the tar: " + e);
        }
        assertEquals("10.0.0.1 host\n", tar.stream().filter(e -> e.name().equals("etc/hosts")).findFirst().orElseThrow().content());
    }

    @Test
    void changesReadTheAufsWhiteoutsAndNeverShowAufsMeta() throws Exception {
        writeUpperAsAufsWould();
        List<Change> changes = d.changes("upper", "base");
        for (Change c : changes) {
            assertFalse(c.path().contains(".wh."), "a whiteout or aufs file reported as a path: " + c);
        }
        assertTrue(changes.containsAll(List.of(new Change("/new.txt", ADD), new Change("/etc/hosts", MODIFY),
                new Change("/gone", DELETE), new Change("/etc/old", DELETE), new Change("/opaque/fresh", ADD))), changes.toString());
        assertEquals(changes.stream().sorted().toList(), changes, "sorted by path");
    }

    @Test
    void aBaseLayerDiffsAndChangesAsAllAdds() throws Exception {
        Files.createDirectories(home.resolve("diff/base/.wh..wh.orph"));
        List<Change> changes = d.changes("base", null);
        assertTrue(changes.stream().allMatch(c -> c.kind() == ADD), changes.toString());
        assertTrue(changes.contains(new Change("/etc/hosts", ADD)), changes.toString());
        assertTrue(changes.stream().noneMatch(c -> isAufsMeta(c.path())), changes.toString());
        try (InputStream in = d.diff("base", null)) {
            List<Entry> tar = TarFixtures.read(in);
            assertTrue(tar.stream().noneMatch(e -> isAufsMeta(e.name())), tar.toString());
            assertTrue(tar.stream().anyMatch(e -> e.name().equals("opaque/stale")), tar.toString());
        }
    }

    /** OCI whiteouts in, aufs whiteouts on disk, OCI whiteouts out: the same tar comes back. */
    @Test
    void anOciTarAppliedToADiffDirComesBackTheSame() throws Exception {
        List<Entry> oci = List.of(
                Entry.dir("etc", 0755),
                Entry.file("etc/hosts", 0644, "10.0.0.1 host\n"),
                Entry.whiteout("etc/.wh.old"),
                Entry.whiteout(".wh.gone"),
                Entry.dir("opaque", 0700),
                Entry.whiteout("opaque/.wh..wh..opq"),
                Entry.file("opaque/fresh", 0600, "fresh\n"),
                Entry.file("bin-tool", 04755, "#!/bin/sh\n"),
                Entry.hardlink("bin-tool-link", "bin-tool"),
                Entry.symlink("hosts-link", "etc/hosts"));
        long applied = d.applyDiff("upper", "base", new ByteArrayInputStream(TarFixtures.write(oci)));

        Path u = home.resolve("diff/upper");
        for (String wh : List.of(".wh.gone", "etc/.wh.old", "opaque/.wh..wh..opq")) {
            assertTrue(Files.isRegularFile(u.resolve(wh), LinkOption.NOFOLLOW_LINKS), "aufs keeps " + wh + " as a file");
            assertEquals(0, Files.size(u.resolve(wh)));
        }
        assertFalse(Files.exists(u.resolve("gone")));
        assertTrue(Files.exists(home.resolve("diff/base/gone")), "the parent's diff is untouched");
        assertTrue(d.exists("upper"));
        assertEquals(d.diffSize("upper", "base"), applied);
        assertEquals("10.0.0.1 host\n".length() + "fresh\n".length() + "#!/bin/sh\n".length() + "etc/hosts".length(), applied,
                "regular files once per inode plus the symlink, as moby's directory.Size counts");

        List<Entry> back;
        try (InputStream in = d.diff("upper", "base")) {
            back = TarFixtures.read(in);
        }
        assertEquals(normalise(oci), normalise(back));

        List<Change> changes = d.changes("upper", "base");
        assertTrue(changes.containsAll(List.of(new Change("/etc/hosts", MODIFY), new Change("/etc/old", DELETE),
                new Change("/gone", DELETE), new Change("/bin-tool", ADD), new Change("/hosts-link", ADD))), changes.toString());
    }

    /** Whiteout files compare by name only (their mode is not content); a hardlink may point either way. */
    private static List<Entry> normalise(List<Entry> entries) {
        List<Entry> out = new ArrayList<>();
        Set<String> linked = new HashSet<>();
        for (Entry e : entries) {
            if (e.type() == 'h') {
                linked.add(e.name());
                linked.add(e.link());
            }
        }
        for (Entry e : entries) {
            if (e.name().substring(e.name().lastIndexOf('/') + 1).startsWith(".wh.")) {
                out.add(Entry.whiteout(e.name()));
            } else if (linked.contains(e.name())) {
                out.add(new Entry(e.name(), 'L', 0, "", "")); // one of a hardlinked pair
            } else {
                out.add(e);
            }
        }
        out.sort(Comparator.comparing(Entry::name));
        return out;
    }

    @Test
    void aHostileTarChangesNothingOutsideAndLeavesTheLayerAsItWas() throws Exception {
        byte[] evil = TarFixtures.write(List.of(Entry.file("ok", 0644, "ok"), Entry.file("../../escaped", 0644, "x")));
        StorageException e = assertThrows(StorageException.class, () -> d.applyDiff("upper", "base", new ByteArrayInputStream(evil)));
        assertInstanceOf(UnsafeEntryException.class, e.getCause(), "the refusal is the cause");
        assertTrue(e.getMessage().contains("layer upper unchanged"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("escaped")));
        assertFalse(Files.exists(home.resolve("escaped")));
        assertTrue(d.exists("upper"), "the layer existed before the apply");
        assertFalse(Files.exists(home.resolve("diff/upper/ok")), "nothing of the refused tar is in the layer");
        d.remove("upper");
    }

    /**
     * Across formats: an overlay upper (char 0/0 whiteout, opaque xattr) goes out as OCI, into an aufs diff dir as
     * .wh. files, out again as OCI, and into a plain tree (vfs's format) as real deletions.
     */
    @Test
    void overlayToOciToAufsToOciToAPlainTree() throws Exception {
        Path ov = Files.createDirectories(tmp.resolve("overlay-upper"));
        PosixFiles.mknod(ov.resolve("gone"), Stat.S_IFCHR, 0);
        Files.createDirectories(ov.resolve("opaque"));
        Xattrs.set(ov.resolve("opaque"), "trusted.overlay.opaque", "y".getBytes());
        Files.writeString(ov.resolve("opaque/fresh"), "fresh\n");
        Files.writeString(ov.resolve("new.txt"), "new\n");
        ByteArrayOutputStream fromOverlay = new ByteArrayOutputStream();
        LayerArchive.writeUpper(ov, WhiteoutFormat.OVERLAY, List.of(home.resolve("diff/base")), fromOverlay);

        d.applyDiff("upper", "base", new ByteArrayInputStream(fromOverlay.toByteArray()));
        Path u = home.resolve("diff/upper");
        assertTrue(Files.isRegularFile(u.resolve(".wh.gone"), LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.isRegularFile(u.resolve("opaque/.wh..wh..opq"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(u.resolve("gone"), LinkOption.NOFOLLOW_LINKS), "no char device in an aufs branch");

        Path plain = Files.createDirectories(tmp.resolve("plain"));
        try (InputStream base = LayerArchive.tree(home.resolve("diff/base"))) {
            LayerArchive.apply(plain, base, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        }
        try (InputStream out = d.diff("upper", "base")) {
            LayerArchive.apply(plain, out, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        }
        assertFalse(Files.exists(plain.resolve("gone")));
        assertFalse(Files.exists(plain.resolve("opaque/stale")), "the opaque marker hid the parent's files");
        assertEquals("fresh\n", Files.readString(plain.resolve("opaque/fresh")));
        assertEquals("new\n", Files.readString(plain.resolve("new.txt")));
        assertEquals("127.0.0.1 localhost\n", Files.readString(plain.resolve("etc/hosts")));
        try (var s = Files.walk(plain)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".wh.")), "whiteouts left as files");
        }
    }
}
