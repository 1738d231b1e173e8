package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.PosixFiles;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child's lower file read from its parent's {@code .child-lower} (not from the parent's {@code link} and
 * {@code lower}) only when that file is well-formed and names the parent; and a create that finds what a lost create
 * of its id left sweeps it.
 */
class SharedLowerTest extends OnScratchFs {
    StorageDriver d;

    @BeforeEach
    void openWithLayers() throws Exception {
        d = open();
        d.create("base", null, CreateOptions.NONE);
        d.create("other", null, CreateOptions.NONE);
        Files.writeString(home.resolve("base/diff/from-base"), "base");
        Files.writeString(home.resolve("other/diff/from-other"), "other");
        d.create("first", "base", CreateOptions.NONE); // makes base/.child-lower
    }

    private String lid(String id) throws Exception {
        return Files.readString(home.resolve(id).resolve("link"));
    }

    private long ino(String path) {
        return PosixFiles.lstat(home.resolve(path)).ino();
    }

    @Test
    void aDeeperChildLinksTheSharedFileWhichHoldsTheWholeChain() throws Exception {
        d.create("second", "first", CreateOptions.NONE);
        d.create("third", "first", CreateOptions.NONE); // reads first/.child-lower, made by "second"
        String chain = "l/" + lid("first") + ":l/" + lid("base");
        assertEquals(chain, Files.readString(home.resolve("third/lower")));
        assertEquals(ino("first/.child-lower"), ino("third/lower"));
        assertEquals(ino("first/.child-lower"), ino("second/lower"));
        Path root = d.get("third", "");
        try {
            assertEquals("base", Files.readString(root.resolve("from-base")));
        } finally {
            d.put("third");
        }
    }

    /** A well-formed shared file that names another layer (hand-edited, or blocks of another file after a crash). */
    @Test
    void aSharedFileNamingAnotherParentIsNotTrusted() throws Exception {
        replaceShared(("l/" + lid("other")).getBytes(StandardCharsets.US_ASCII));
        d.create("child", "base", CreateOptions.NONE);
        assertEquals("l/" + lid("base"), Files.readString(home.resolve("child/lower")));
        assertNotEquals(ino("base/.child-lower"), ino("child/lower"), "a file of its own");
        Path root = d.get("child", "");
        try {
            assertTrue(Files.exists(root.resolve("from-base")));
            assertFalse(Files.exists(root.resolve("from-other")), "the child shows its own parent");
        } finally {
            d.put("child");
        }
    }

    /** What a crash on a filesystem that was not synced may leave: an empty file, or one of zeros. */
    @Test
    void anEmptiedOrZeroedSharedFileIsNotTrusted() throws Exception {
        String expected = "l/" + lid("base");
        replaceShared(new byte[0]);
        d.create("c1", "base", CreateOptions.NONE);
        assertEquals(expected, Files.readString(home.resolve("c1/lower")));
        replaceShared(new byte[expected.length()]);
        d.create("c2", "base", CreateOptions.NONE);
        assertEquals(expected, Files.readString(home.resolve("c2/lower")));
        replaceShared((expected + "\n").getBytes(StandardCharsets.US_ASCII));
        d.create("c3", "base", CreateOptions.NONE);
        assertEquals(expected, Files.readString(home.resolve("c3/lower")));
    }

    @Test
    void aLostCreateOfTheSameIdIsSweptWhenTheIdIsMadeAgain() throws Exception {
        Path staging = Files.createDirectories(home.resolve(".new-again/diff"));
        Files.writeString(staging.resolve("half"), "half a layer");
        Files.writeString(staging.resolveSibling("link"), "AGAINAGAINAGAINAGAINAGAIN2");
        Files.createSymbolicLink(home.resolve("l/AGAINAGAINAGAINAGAINAGAIN2"), Path.of("../again/diff"));
        d.create("again", "base", CreateOptions.NONE);
        assertFalse(Files.exists(home.resolve("again/diff/half")), "nothing of the lost create in the layer");
        assertFalse(Files.exists(home.resolve("l/AGAINAGAINAGAINAGAINAGAIN2"), LinkOption.NOFOLLOW_LINKS), "its short link");
        assertFalse(Files.exists(home.resolve(".new-again"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("l/" + lid("base"), Files.readString(home.resolve("again/lower")));
        assertTrue(Files.isSymbolicLink(home.resolve("l/" + lid("again"))));
    }

    @Test
    void lowerEntryCountAcceptsOnlyWhatStrataAndMobyWrite() {
        String a = "l/ABCDEFGHIJKLMNOPQRSTUVWXYZ", b = "l/234567ABCDEFGHIJKLMNOPQRST";
        assertEquals(1, Layout.lowerEntryCount(bytes(a)));
        assertEquals(3, Layout.lowerEntryCount(bytes(a + ":" + b + ":" + a)));
        for (String bad : new String[] {"", a + "\n", a + ":", a + "/" + b.substring(1), "l/abcdefghijklmnopqrstuvwxyz",
                "x/ABCDEFGHIJKLMNOPQRSTUVWXYZ", a.substring(0, 27), a + ":" + b.substring(0, 27) + "1"}) {
            assertEquals(-1, Layout.lowerEntryCount(bytes(bad)), bad);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private void replaceShared(byte[] content) throws Exception {
        Path shared = home.resolve("base/.child-lower");
        Files.delete(shared); // first/lower keeps the old inode
        Files.write(shared, content);
    }
}
