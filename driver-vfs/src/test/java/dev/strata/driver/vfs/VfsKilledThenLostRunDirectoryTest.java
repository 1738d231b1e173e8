package dev.strata.driver.vfs;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import dev.strata.conformance.KillChild;
import dev.strata.kit.RunDirectory;
import dev.strata.nativeio.Trees;
import dev.strata.testsupport.Tmpfs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A vfs create or apply killed (SIGKILL, a real process: {@link KillChild}) while it copies, then its run directory
 * lost, as after a reboot or the stale sweep: the kit's marks are gone, so only what the next open finds on disk can
 * say what was cut short. The layer must then be whole or absent with nothing of it left anywhere in the home, and
 * its parent as it was. Each kill is timed by watching the copy grow, so that it lands in the middle of it.
 */
class VfsKilledThenLostRunDirectoryTest {
    private static final String BASE = "kill-base"; // KillChild's parent layer
    Tmpfs scratch;
    Path root;
    Path home;

    @BeforeEach
    void mount() {
        scratch = Tmpfs.mount("512m");
        root = scratch.path();
        home = root.resolve("vfs");
    }

    @AfterEach
    void unmount() {
        if (scratch == null) return;
        Trees.deleteQuietly(RunDirectory.forHome(home));
        scratch.close();
    }

    private StorageDriver open() {
        DriverRegistry registry = DriverRegistry.load();
        return registry.open(registry.require("vfs"), root, List.of());
    }

    /** A parent of 4,000 files in 40 directories: a copy long enough (~0.1-1 s) to be killed in the middle of. */
    private Map<String, String> bigBase(StorageDriver d) throws IOException {
        d.create(BASE, null, CreateOptions.NONE);
        Path r = d.get(BASE, null);
        byte[] content = new byte[1024];
        for (int i = 0; i < 40; i++) {
            Path dir = Files.createDirectory(r.resolve("d" + i));
            for (int f = 0; f < 100; f++) {
                content[0] = (byte) f;
                content[1] = (byte) i;
                Files.write(dir.resolve("f" + f), content);
            }
        }
        d.put(BASE);
        return describe(r);
    }

    @Test
    void aCreateKilledWhileItCopiesIsSweptWhole() throws Exception {
        StorageDriver d = open();
        Map<String, String> baseTree = bigBase(d);
        int midCopy = 0;
        for (int attempt = 0; attempt < 6 && midCopy < 2; attempt++) {
            String id = "killed-create-" + attempt;
            // a copy under way: dir/.new-<id> (or, before staging, a partial dir/<id>) holding a few directories
            killWhen("create", id, () -> copying(id));
            Trees.delete(RunDirectory.forHome(home));

            StorageDriver r = open();
            assertEquals(baseTree, describe(r.get(BASE, null)), "the parent is as it was");
            r.put(BASE);
            boolean exists = r.exists(id);
            assertEquals(exists, r.layers().contains(id), "exists and layers agree");
            if (exists) { // killed just after the commit: then the copy is whole
                assertEquals(baseTree, describe(r.get(id, null)), "a layer whose create was killed is a whole copy");
                r.put(id);
            } else {
                midCopy++;
                assertEquals(List.of(), entriesNaming(id), "nothing of the killed create is left");
                r.create(id, BASE, CreateOptions.NONE); // the id is free again
            }
            r.remove(id);
            assertEquals(List.of(), entriesNaming(id), "removed");
        }
        assertTrue(midCopy >= 1, "no kill landed in the middle of a copy in 6 tries");
    }

    @Test
    void anApplyKilledWhileItWritesIsDroppedAndTheLayerKept() throws Exception {
        StorageDriver d = open();
        Map<String, String> baseTree = bigBase(d);
        String id = "killed-apply";
        d.create(id, BASE, CreateOptions.NONE);
        // killed while the tar goes into dir/.apply-<id>/staged: its first file replaced (the copy holds hardlinks until then)
        Path layer = home.resolve("dir").resolve(id), staged = home.resolve("dir").resolve(".apply-" + id).resolve("staged");
        killWhen("apply", id, () -> {
            try {
                return !Files.isSameFile(staged.resolve("d0/f0"), layer.resolve("d0/f0"));
            } catch (IOException notYet) {
                return false;
            }
        });
        Trees.delete(RunDirectory.forHome(home));

        StorageDriver r = open();
        assertTrue(r.exists(id), "the layer applied to is kept");
        Map<String, String> now = describe(r.get(id, null));
        r.put(id);
        // KillChild's tar rewrites d0/f0 .. d7/f29 (in that order) and adds base-file, last
        boolean after = now.containsKey("base-file") && now.size() == baseTree.size() + 1 && !now.get("d7/f29").equals(baseTree.get("d7/f29"));
        assertTrue(now.equals(baseTree) || after, "as before the apply or as after it");
        try (Stream<Path> s = Files.list(home.resolve("dir"))) {
            assertEquals(List.of(BASE, id), s.map(p -> p.getFileName().toString()).sorted().toList(), "no staging left");
        }
        assertEquals(baseTree, describe(r.get(BASE, null)), "the parent is as it was");
        r.put(BASE);
    }

    /**
     * A partial {@code dir/<id>} without a record, as an older version's create left it when killed, is no layer, and
     * a create of the id replaces it whole, as vfs always did; with a staged create killed too, the sweep takes both.
     */
    @Test
    void aPartialCopyAnOlderVersionLeftIsReplacedByACreateOfItsId() throws Exception {
        StorageDriver d = open();
        d.create(BASE, null, CreateOptions.NONE);
        Files.writeString(d.get(BASE, null).resolve("f"), "base");
        d.put(BASE);
        Path dir = home.resolve("dir");
        Files.writeString(Files.createDirectories(dir.resolve("old")).resolve("half"), "half");
        assertFalse(d.exists("old"));
        d.create("old", BASE, CreateOptions.NONE);
        assertEquals(List.of("f"), names(dir.resolve("old")));
        assertEquals(List.of(BASE, "old"), names(dir), "nothing set aside is left");

        Files.writeString(Files.createDirectories(dir.resolve("older")).resolve("half"), "half");
        Files.createDirectories(dir.resolve(".new-older").resolve("half"));
        Trees.delete(RunDirectory.forHome(home));
        StorageDriver r = open();
        assertEquals(List.of(BASE, "old"), names(dir));
        assertEquals(List.of(BASE, "old"), r.layers().stream().sorted().toList());
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Whether an entry of {@code dir} named for {@code id} holds a few of the parent's directories. */
    private boolean copying(String id) {
        try (Stream<Path> s = Files.list(home.resolve("dir"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().contains(id)).toList()) {
                try (Stream<Path> in = Files.list(p)) {
                    if (in.count() >= 3) return true;
                } catch (IOException gone) {
                    // renamed into place meanwhile
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    interface Check {
        boolean test() throws Exception;
    }

    /** Runs {@code op} on {@code id} in a child JVM and kills it (SIGKILL) as soon as {@code when} holds, or once it is done. */
    private void killWhen(String op, String id, Check when) throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), KillChild.class.getName(), "vfs", root.toString(), op, id)
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            List<String> seen = new ArrayList<>();
            for (String l; !"READY".equals(l = out.readLine()); ) {
                if (l == null) throw new AssertionError("the child exited before it was ready:\n" + String.join("\n", seen));
                seen.add(l);
            }
            OutputStream in = child.getOutputStream();
            in.write("GO\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!when.test() && child.isAlive() && System.nanoTime() < deadline && !out.ready()) Thread.onSpinWait();
        } finally {
            child.destroyForcibly(); // SIGKILL
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child died");
        }
    }

    /** Every entry under the home whose path names {@code id}, the kit's state (records, index) included. */
    private List<Path> entriesNaming(String id) throws IOException {
        try (Stream<Path> all = Files.walk(home)) {
            Predicate<Path> naming = p -> home.relativize(p).toString().contains(id);
            return all.filter(naming).map(home::relativize).limit(8).toList();
        }
    }

    /** Relative path to type, mode and content digest. */
    private static Map<String, String> describe(Path r) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(r)) {
            for (Path p : all.toList()) {
                String rel = r.relativize(p).toString();
                String what = Files.isDirectory(p) ? "dir" : "file " + digest(Files.readAllBytes(p));
                out.put(rel, what + " " + java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
            }
        }
        return out;
    }

    private static String digest(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
