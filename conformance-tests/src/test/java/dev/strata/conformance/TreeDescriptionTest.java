package dev.strata.conformance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.strata.conformance.Applier.all;
import static dev.strata.conformance.Applier.createDir;
import static dev.strata.conformance.Applier.createFile;
import static dev.strata.conformance.Applier.link;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TreeDescriptionTest {
    private static final Applier TREE = all(createDir("/d", 0750), createFile("/d/f", "data", 04755), link("/d/f", "/g"),
            Applier.symlink("d/f", "/s"));

    @Test
    void equalTreesHaveEqualDescriptionsAndLostFoundIsIgnored(@TempDir Path tmp) throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a")), b = Files.createDirectories(tmp.resolve("b"));
        TREE.apply(a);
        TREE.apply(b);
        Files.createDirectory(b.resolve("lost+found"));
        assertEquals(TreeDescription.of(a, false), TreeDescription.of(b, false));
        assertEquals("file 4755 " + uidGid(a) + " size=4 sha256=3a6eb0790f39ac87 hardlink-of=/d/f", TreeDescription.of(a, false).get("/g"));
    }

    @Test
    void differencesNameThePathAndWhatDiffers(@TempDir Path tmp) throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a")), b = Files.createDirectories(tmp.resolve("b"));
        TREE.apply(a);
        all(createDir("/d", 0750), createFile("/d/f", "data", 0755), createFile("/g", "data", 04755), createFile("/extra", "", 0644)).apply(b);
        Map<String, String> want = TreeDescription.of(a, false), got = TreeDescription.of(b, false);
        List<String> diffs = TreeDescription.differences(want, got, 10);
        assertEquals(4, diffs.size(), diffs.toString());
        assertTrue(diffs.get(0).startsWith("/d/f: want file 4755"), diffs.toString());
        assertTrue(diffs.get(1).startsWith("unexpected /extra"), diffs.toString());
        assertTrue(diffs.get(2).startsWith("/g: want ") && diffs.get(2).contains("hardlink-of=/d/f"), diffs.toString());
        assertTrue(diffs.get(3).startsWith("missing /s"), diffs.toString());
        assertEquals(List.of("/d/f: want file 4755 " + uidGid(a) + " size=4 sha256=3a6eb0790f39ac87, got file 0755 "
                + uidGid(a) + " size=4 sha256=3a6eb0790f39ac87", "... and 3 more differences"), TreeDescription.differences(want, got, 1));
    }

    @Test
    void randomContentIsDeterministicPerSeed() {
        assertEquals(64, RandomContent.of(64, 3).length);
        assertTrue(java.util.Arrays.equals(RandomContent.of(100, 7), RandomContent.of(100, 7)));
        assertNotEquals(java.util.Arrays.toString(RandomContent.of(100, 7)), java.util.Arrays.toString(RandomContent.of(100, 8)));
    }

    private static String uidGid(Path p) throws IOException {
        return Files.getAttribute(p, "unix:uid") + ":" + Files.getAttribute(p, "unix:gid");
    }

    @Test
    void userXattrsCanBeLeftOutOfADescription() {
        java.util.Map<String, String> tree = java.util.Map.of(
                "/x", "file 0644 0:0 size=1 xattrs={security.capability=01;user.strata=00ff;}",
                "/y", "file 0644 0:0 size=1 xattrs={user.strata=00;}",
                "/z", "dir 0755 0:0");
        java.util.Map<String, String> out = TreeDescription.withoutXattrs(tree, "user.");
        org.junit.jupiter.api.Assertions.assertEquals("file 0644 0:0 size=1 xattrs={security.capability=01;}", out.get("/x"));
        org.junit.jupiter.api.Assertions.assertEquals("file 0644 0:0 size=1", out.get("/y"));
        org.junit.jupiter.api.Assertions.assertEquals("dir 0755 0:0", out.get("/z"));
    }
}
