package dev.strata.kit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The children index: entries are names of one shared file, and read the same as files of their own. */
class ChildIndexTest {
    @TempDir
    Path dir;

    @Test
    void entriesAreNamesOfOneSharedFileAfterTheFirst() throws Exception {
        ChildIndex index = new ChildIndex(dir.resolve("children"));
        index.add("p", "c1"); // the home's first entry: a file of its own, and the shared file made
        index.add("p", "c2");
        index.add("p", "c3");
        index.add("p", "c2"); // there already (a stale entry of an earlier child of that id): fine
        assertEquals(List.of("c1", "c2", "c3"), index.children("p"));
        Path shared = dir.resolve("children/.entry");
        assertEquals(ino(shared), ino(dir.resolve("children/p/c2")));
        assertEquals(ino(shared), ino(dir.resolve("children/p/c3")));
        assertEquals(3, (int) Files.getAttribute(shared, "unix:nlink"));

        index.add("q", "d1"); // a new parent's directory: made, the entry a file of its own
        index.add("q", "d2");
        assertEquals(ino(shared), ino(dir.resolve("children/q/d2")));
        assertEquals(List.of("d1", "d2"), index.children("q"));

        index.remove("p", "c2");
        index.drop("q");
        assertEquals(List.of("c1", "c3"), index.children("p"));
        assertEquals(List.of(), index.children("q"));
        assertEquals(2, (int) Files.getAttribute(shared, "unix:nlink")); // the shared file and c3
    }

    @Test
    void aMissingSharedFileIsMadeAgain() throws Exception {
        ChildIndex index = new ChildIndex(dir.resolve("children"));
        index.add("p", "c1");
        Files.delete(dir.resolve("children/.entry"));
        index.add("p", "c2"); // a file of its own, and the shared file made again
        index.add("p", "c3");
        assertTrue(Files.exists(dir.resolve("children/.entry"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(ino(dir.resolve("children/.entry")), ino(dir.resolve("children/p/c3")));
        assertEquals(List.of("c1", "c2", "c3"), index.children("p"));
    }

    private static long ino(Path p) throws Exception {
        return (long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }
}
