package dev.strata.archive;

import dev.strata.testsupport.Tmpfs;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.LayerStore;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageException;
import dev.strata.nativeio.PosixFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LayerArchive.tree streaming and its early close; NaiveDiff over a LayerStore; a failed apply. */
class StreamAndNaiveDiffTest {
    private Tmpfs fs;

    @BeforeEach
    void mount() {
        fs = Tmpfs.mount("512m");
    }

    @AfterEach
    void unmount() {
        if (fs != null) fs.close();
    }

    private static boolean producerAlive() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("strata-tar") || t.getName().startsWith("strata-diff"));
    }

    @Test
    void treeStreamsTheSameBytesAsWriteTree() throws Exception {
        Path src = fs.dir("src");
        for (int i = 0; i < 300; i++) Files.writeString(src.resolve("f" + i), "content " + i + "\n".repeat(i));
        ByteArrayOutputStream direct = new ByteArrayOutputStream();
        LayerArchive.writeTree(src, direct);
        byte[] streamed;
        try (InputStream in = LayerArchive.tree(src)) {
            streamed = in.readAllBytes();
        }
        assertTrue(Arrays.equals(direct.toByteArray(), streamed), "stream differs from writeTree");
    }

    @Test
    void closingEarlyStopsTheProducer() throws Exception {
        Path src = fs.dir("src");
        byte[] mb = new byte[1 << 20];
        new java.util.Random(1).nextBytes(mb);
        for (int i = 0; i < 64; i++) Files.write(src.resolve("f" + i), mb);
        InputStream in = LayerArchive.tree(src);
        assertEquals(4096, in.readNBytes(4096).length);
        long t0 = System.nanoTime();
        in.close();
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "close took too long");
        assertFalse(producerAlive(), "producer thread still running after close");
        assertThrows(IOException.class, () -> in.read());
    }

    @Test
    void aProducerFailureReachesTheReader() {
        InputStream in = LayerArchive.tree(fs.path().resolve("does-not-exist"));
        IOException e = assertThrows(IOException.class, in::readAllBytes);
        assertTrue(e.getMessage().contains("does-not-exist"), e.getMessage());
    }

    /** A LayerStore of plain directories that counts get/put. */
    private static final class DirStore implements LayerStore {
        final Path home;
        final Map<String, Integer> refs = new HashMap<>();

        DirStore(Path home) {
            this.home = home;
        }

        @Override
        public void create(String id, String parent, CreateOptions options) {
            try {
                Files.createDirectories(home.resolve(id));
                if (parent != null && !parent.isEmpty()) TreeTools.run(null, "cp", "-a", home.resolve(parent) + "/.", home.resolve(id).toString());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void createReadWrite(String id, String parent, CreateOptions options) {
            create(id, parent, options);
        }

        @Override
        public Path get(String id, String mountLabel) {
            refs.merge(id, 1, Integer::sum);
            return home.resolve(id);
        }

        @Override
        public void put(String id) {
            refs.merge(id, -1, Integer::sum);
        }

        @Override
        public int references(String id) {
            return refs.getOrDefault(id, 0);
        }

        @Override
        public void remove(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean exists(String id) {
            return Files.isDirectory(home.resolve(id));
        }

        @Override
        public String parent(String id) {
            return null;
        }

        @Override
        public dev.strata.api.IdMaps idMaps(String id) {
            return dev.strata.api.IdMaps.NONE;
        }

        @Override
        public List<String> layers() {
            return List.of();
        }

        @Override
        public List<StatusEntry> status() {
            return List.of();
        }

        @Override
        public Map<String, String> metadata(String id) {
            return Map.of();
        }

        @Override
        public void cleanup() {
        }
    }

    @Test
    void naiveDiffMovesALayerAndDiffSizeMeasuresIt() throws Exception {
        DirStore store = new DirStore(fs.dir("home"));
        NaiveDiff nd = new NaiveDiff(store);
        store.create("base", null, null);
        Path base = store.home.resolve("base");
        Files.createDirectories(base.resolve("etc"));
        Files.writeString(base.resolve("etc/hosts"), "127.0.0.1 localhost\n");
        Files.writeString(base.resolve("etc/gone"), "gone\n");
        store.create("child", "base", null);
        Path child = store.home.resolve("child");
        Files.writeString(child.resolve("etc/hosts"), "127.0.0.1 localhost child\n");
        Files.delete(child.resolve("etc/gone"));
        Files.writeString(child.resolve("added"), "added\n");
        Files.createLink(child.resolve("added-link"), child.resolve("added"));

        assertEquals(List.of("A /added", "A /added-link", "C /etc", "D /etc/gone", "C /etc/hosts"),
                nd.changes("child", "base").stream().map(Change::toString).toList());

        // move base and child into a second pair of layers through diff/applyDiff
        store.create("base2", null, null);
        long baseSize;
        try (InputStream d = nd.diff("base", null)) {
            LayerArchive.apply(store.home.resolve("base2"), d, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
            baseSize = nd.diffSize("base2", null);
        }
        assertEquals(nd.diffSize("base2", null), baseSize);
        assertEquals(nd.diffSize("base", null), baseSize);
        store.create("child2", "base2", null);
        long childSize;
        try (InputStream d = nd.diff("child", "base")) {
            LayerArchive.apply(store.home.resolve("child2"), d, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
            childSize = nd.diffSize("child2", "base2");
        }
        assertEquals(nd.diffSize("child2", "base2"), childSize);
        assertEquals(("127.0.0.1 localhost child\n".length() + "added\n".length()), childSize);
        PosixFiles.utimensat(null, child.toString(), 0, 0, 0);
        PosixFiles.utimensat(null, store.home.resolve("child2").toString(), 0, 0, 0);
        TreeTools.assertSameTree(child, store.home.resolve("child2"));
        for (var e : store.refs.entrySet()) assertEquals(0, e.getValue(), "get/put unbalanced for " + e.getKey());
        assertFalse(producerAlive());
    }
}
