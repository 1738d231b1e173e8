package dev.strata.plugin;

import dev.strata.api.Capabilities;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A driver for protocol tests: layers are map entries, a layer's "diff" is the bytes last applied to it, and Get
 * returns a real directory. Hooks let a test block Get (concurrency) or break a Diff stream half-way.
 */
final class MemoryDriver implements StorageDriver {
    record Layer(String parent, boolean readWrite, byte[] content, Map<String, String> storageOpts, dev.strata.api.IdMaps idMaps) {
        Layer(String parent, boolean readWrite, byte[] content, Map<String, String> storageOpts) {
            this(parent, readWrite, content, storageOpts, dev.strata.api.IdMaps.NONE);
        }
    }

    final Path home;
    final Map<String, Layer> layers = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> refs = new ConcurrentHashMap<>();
    final AtomicInteger cleanups = new AtomicInteger();
    final List<String> options;
    volatile CountDownLatch getGate;
    volatile CountDownLatch getEntered;
    /** When >= 0, a Diff stream fails with an IOException after this many bytes. */
    volatile long failDiffAfter = -1;

    MemoryDriver(Path home, List<String> options) {
        this.home = home;
        this.options = options;
        try {
            Files.createDirectories(home);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String name() {
        return MemoryDriverProvider.NAME;
    }

    @Override
    public Path home() {
        return home;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, false, dev.strata.api.Support.yes("kept in memory"));
    }

    @Override
    public void create(String id, String parent, CreateOptions options) {
        add("create", id, parent, false, options);
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions options) {
        add("createReadWrite", id, parent, true, options);
    }

    private void add(String op, String id, String parent, boolean rw, CreateOptions options) {
        LayerIds.check(op, id);
        String p = LayerIds.checkParent(op, parent);
        if (p != null && !layers.containsKey(p)) throw new ParentUnknownException(op, id, p);
        if (layers.putIfAbsent(id, new Layer(p, rw, new byte[0], options.storageOpts(), options.idMaps())) != null) {
            throw new LayerExistsException(op, id);
        }
    }

    private Layer require(String op, String id) {
        LayerIds.check(op, id);
        Layer l = layers.get(id);
        if (l == null) throw new LayerUnknownException(op, id);
        return l;
    }

    @Override
    public void remove(String id) {
        require("remove", id);
        layers.remove(id);
    }

    @Override
    public Path get(String id, String mountLabel) {
        require("get", id);
        CountDownLatch entered = getEntered;
        if (entered != null) entered.countDown();
        CountDownLatch gate = getGate;
        if (gate != null) {
            try {
                if (!gate.await(30, TimeUnit.SECONDS)) throw new StorageException("get", id, "test gate never opened");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StorageException("get", id, "interrupted");
            }
        }
        Path dir = home.resolve(id);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        refs.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
        return dir;
    }

    @Override
    public void put(String id) {
        require("put", id);
        AtomicInteger r = refs.get(id);
        if (r == null || r.get() == 0) throw new StorageException("put", id, "not mounted");
        r.decrementAndGet();
    }

    @Override
    public boolean exists(String id) {
        return layers.containsKey(id);
    }

    @Override
    public int references(String id) {
        AtomicInteger r = refs.get(id);
        return r == null ? 0 : r.get();
    }

    @Override
    public String parent(String id) {
        return require("parent", id).parent();
    }

    @Override
    public dev.strata.api.IdMaps idMaps(String id) {
        return require("idMaps", id).idMaps();
    }

    @Override
    public List<String> layers() {
        return new ArrayList<>(layers.keySet());
    }

    @Override
    public List<StatusEntry> status() {
        return List.of(new StatusEntry("Layers", Integer.toString(layers.size())), new StatusEntry("Home", home.toString()));
    }

    @Override
    public Map<String, String> metadata(String id) {
        Layer l = require("metadata", id);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("Dir", home.resolve(id).toString());
        m.put("ReadWrite", Boolean.toString(l.readWrite()));
        return m;
    }

    @Override
    public void cleanup() {
        cleanups.incrementAndGet();
        try {
            Files.writeString(home.resolve("cleanups"), Integer.toString(cleanups.get()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public InputStream diff(String id, String parent) {
        byte[] content = require("diff", id).content();
        long failAfter = failDiffAfter;
        if (failAfter < 0) return new ByteArrayInputStream(content);
        return new InputStream() {
            long pos;

            @Override
            public int read() throws IOException {
                if (pos >= failAfter) throw new IOException("disk on fire at byte " + pos);
                return pos < content.length ? content[(int) pos++] & 0xff : -1;
            }
        };
    }

    @Override
    public List<Change> changes(String id, String parent) {
        require("changes", id);
        return List.of(new Change("/etc/hostname", Change.Kind.MODIFY), new Change("/tmp/x", Change.Kind.ADD),
                new Change("/bin/ls", Change.Kind.DELETE));
    }

    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        Layer l = require("applyDiff", id);
        if (parent != null && !parent.equals(l.parent())) {
            throw new StorageException("applyDiff", id, "parent is " + l.parent() + ", not " + parent);
        }
        try {
            byte[] bytes = diff.readAllBytes();
            layers.put(id, new Layer(l.parent(), l.readWrite(), bytes, l.storageOpts(), l.idMaps()));
            return bytes.length;
        } catch (IOException e) {
            throw new StorageException("applyDiff", id, e.getMessage(), e);
        }
    }

    @Override
    public long diffSize(String id, String parent) {
        return require("diffSize", id).content().length;
    }
}
