package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.StorageDriver;
import dev.strata.kit.RunDirectory;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first get and put of a layer in a process, which mount it unless it is mounted, and unmount it if it is, in
 * the calls of the mount or unmount alone ({@link LayerMounts#mountUnlessMounted}, {@link LayerMounts#unmount}): the
 * process knows nothing of the layer from its create, so whatever another process did in between is seen, a mount
 * nobody counted is adopted, never stacked twice, and one gone behind the count's back is no error.
 */
class FirstUseTest extends OnScratchFs {
    StorageDriver d, other;

    @BeforeEach
    void openTwice() throws Exception {
        d = open();
        other = open(); // another process: its own counts, the same home
        d.create("a", null, CreateOptions.NONE);
        d.create("b", null, CreateOptions.NONE);
        Files.writeString(home.resolve("a/diff/from-a"), "a");
        Files.writeString(home.resolve("b/diff/from-b"), "b");
    }

    private int mountsAt(Path p) {
        String s = p.toString();
        return (int) MountInfo.all().stream().filter(m -> m.mountPoint().equals(s)).count();
    }

    @Test
    void aLayerRemadeByAnotherProcessBetweenCreateAndGetIsTheNewOne() throws Exception {
        d.createReadWrite("c", "a", CreateOptions.NONE);
        other.remove("c");
        assertThrows(LayerUnknownException.class, () -> d.get("c", ""));
        other.create("c", null, CreateOptions.NONE); // now a base layer: its diff dir, never mounted
        assertEquals(home.resolve("c/diff"), d.get("c", ""));
        assertFalse(Files.exists(home.resolve("c/merged")));
        d.put("c");
        other.remove("c");
        other.createReadWrite("c", "b", CreateOptions.NONE);
        Path root = d.get("c", "");
        assertEquals(home.resolve("c/merged"), root);
        assertTrue(Files.exists(root.resolve("from-b")));
        assertEquals(1, mountsAt(root));
        d.put("c");
        assertEquals(0, mountsAt(root));
    }

    /** What a remove killed between forgetting the count and unmounting leaves: a mount with no count. */
    @Test
    void aMountNobodyCountedIsAdoptedNotMountedAgain() throws Exception {
        d.createReadWrite("c", "a", CreateOptions.NONE);
        Path root = other.get("c", "");
        Files.delete(RunDirectory.forHome(home).resolve("refs").resolve("c"));
        assertEquals(root, d.get("c", ""));
        assertEquals(1, mountsAt(root), "adopted, not stacked");
        assertTrue(Files.exists(root.resolve("from-a")));
        d.put("c");
        assertEquals(0, mountsAt(root));
        assertFalse(Files.exists(root), "the mount point goes with the last put");
    }

    /** A mount point an earlier mount left without a mount (a put killed after the unmount) is mounted on. */
    @Test
    void aMountPointLeftEmptyIsMountedOn() throws Exception {
        d.createReadWrite("c", "a", CreateOptions.NONE);
        Files.createDirectory(home.resolve("c/merged"));
        Path root = d.get("c", "");
        assertEquals(1, mountsAt(root));
        assertTrue(Files.exists(root.resolve("from-a")));
        d.put("c");
        assertEquals(0, mountsAt(root));
    }

    /** A mount gone behind the count's back (someone unmounted it): the last put drops the count and the mount point. */
    @Test
    void aLayerUnmountedBehindTheCountIsPutWithoutError() throws Exception {
        d.createReadWrite("c", "a", CreateOptions.NONE);
        Path root = d.get("c", "");
        Mounts.unmount(root, 0);
        other.put("c");
        assertEquals(0, d.references("c"));
        assertEquals(0, mountsAt(root));
        assertFalse(Files.exists(root));
    }
}
