package dev.strata.snapshotter;

import dev.strata.api.StorageException;
import dev.strata.snapshotter.SnapshotException.Reason;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The snapshots: key/name → record, in memory, every change persisted by {@link RecordLog} before it is seen. The checks containerd's
 * metadata store makes (names unique, parents committed, no removal under a child) are made here, under one lock;
 * the slow work in between (layers, mounts, usage) runs outside it, protected by reservations: a name being created
 * or committed is taken, a pending child keeps its parent, a snapshot being committed is busy.
 *
 * <p>One process owns a store: a second one on the same directory is refused (an exclusive lock on {@code lock}).
 */
final class MetadataStore implements AutoCloseable {
    /** A creation or commit in progress: its name is taken until it is published or abandoned. */
    record Pending(String id, String name, SnapshotRecord parent, SnapshotRecord source) {
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final RecordLog files;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final Map<String, SnapshotRecord> byName = new HashMap<>();
    private final Map<String, SnapshotRecord> byId = new HashMap<>();
    private final Set<String> reservedNames = new HashSet<>();
    private final Map<String, Integer> children = new HashMap<>();
    private final Set<String> busy = new HashSet<>();

    private MetadataStore(Path dir, FileChannel lockFile, FileLock lock) {
        this.files = new RecordLog(dir.resolve("records"));
        this.lockFile = lockFile;
        this.lock = lock;
        for (SnapshotRecord r : files.records()) insert(r);
    }

    static MetadataStore open(Path dir) {
        try {
            Files.createDirectories(dir);
            FileChannel ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                ch.close();
                throw new StorageException("open", dir.toString(), "another strata snapshotter is serving this root; stop it first");
            }
            return new MetadataStore(dir, ch, l);
        } catch (IOException e) {
            throw new StorageException("open", dir, e.toString(), e);
        }
    }

    // ------------------------------------------------------------------------------------------------ reads

    synchronized SnapshotRecord get(String op, String name) {
        SnapshotRecord r = byName.get(name);
        if (r == null) throw SnapshotException.notFound(op, name);
        return r;
    }

    /** The snapshot named {@code name}, or null. */
    synchronized SnapshotRecord find(String name) {
        return byName.get(name);
    }

    synchronized SnapshotRecord byId(String id) {
        return byId.get(id);
    }

    synchronized List<SnapshotRecord> all() {
        return new ArrayList<>(byId.values());
    }

    synchronized SnapshotInfo info(SnapshotRecord r) {
        SnapshotRecord p = r.parentId() == null ? null : byId.get(r.parentId());
        return new SnapshotInfo(r.name(), p == null ? "" : p.name(), r.kind(), r.labels(), r.created(), r.updated());
    }

    /** Every layer a record or a creation in progress holds: what the orphan sweep must leave alone. */
    synchronized Set<String> layersInUse(Set<String> pendingLayers) {
        Set<String> out = new HashSet<>(pendingLayers);
        for (SnapshotRecord r : byId.values()) if (r.layer() != null) out.add(r.layer());
        return out;
    }

    // ------------------------------------------------------------------------------------------------ create

    /** Takes {@code key} for a new Active or View snapshot on {@code parent} ("" for none). */
    synchronized Pending reserveCreate(String op, String key, String parent) {
        if (key == null || key.isEmpty()) throw new SnapshotException(Reason.INVALID_ARGUMENT, op, key, "key must not be empty");
        SnapshotRecord p = null;
        if (parent != null && !parent.isEmpty()) {
            p = byName.get(parent);
            if (p == null) throw new SnapshotException(Reason.NOT_FOUND, op, key, "parent snapshot " + parent + " does not exist");
            if (p.kind() != Kind.COMMITTED) {
                throw new SnapshotException(Reason.INVALID_ARGUMENT, op, key, "parent " + parent + " is not committed snapshot");
            }
        }
        if (byName.containsKey(key) || reservedNames.contains(key)) {
            throw new SnapshotException(Reason.ALREADY_EXISTS, op, key, "snapshot already exists");
        }
        reservedNames.add(key);
        if (p != null) children.merge(p.id(), 1, Integer::sum);
        return new Pending(newId(), key, p, null);
    }

    /** Writes the new record and makes it visible. */
    void publish(Pending p, SnapshotRecord r) {
        files.put(r);
        synchronized (this) {
            release(p);
            insert(r);
        }
    }

    synchronized void abandon(Pending p) {
        release(p);
    }

    private void release(Pending p) {
        reservedNames.remove(p.name());
        if (p.parent() != null) children.merge(p.parent().id(), -1, Integer::sum);
        if (p.source() != null) busy.remove(p.source().id());
    }

    // ------------------------------------------------------------------------------------------------ commit

    /** Takes {@code name} for the commit of active snapshot {@code key}, which is busy until the commit ends. */
    synchronized Pending reserveCommit(String name, String key) {
        if (name == null || name.isEmpty()) throw new SnapshotException(Reason.INVALID_ARGUMENT, "commit", key, "name must not be empty");
        SnapshotRecord r = byName.get(key);
        if (r == null) throw SnapshotException.notFound("commit", key);
        if (r.kind() != Kind.ACTIVE) throw new SnapshotException(Reason.FAILED_PRECONDITION, "commit", key, "snapshot is not active");
        if (busy.contains(r.id())) throw new SnapshotException(Reason.FAILED_PRECONDITION, "commit", key, "snapshot is being committed");
        if (byName.containsKey(name) || reservedNames.contains(name)) {
            throw new SnapshotException(Reason.ALREADY_EXISTS, "commit", name, "snapshot already exists");
        }
        reservedNames.add(name);
        busy.add(r.id());
        return new Pending(r.id(), name, null, r);
    }

    /** Replaces the active record by the committed one (same id): one journal line. */
    void finishCommit(Pending p, SnapshotRecord committed) {
        files.put(committed);
        synchronized (this) {
            release(p);
            remove(p.source());
            insert(committed);
        }
    }

    // ------------------------------------------------------------------------------------------------ update, remove

    synchronized SnapshotRecord update(String name, java.util.function.UnaryOperator<SnapshotRecord> change) {
        SnapshotRecord r = get("update", name);
        SnapshotRecord u = change.apply(r);
        files.put(u);
        remove(r);
        insert(u);
        return u;
    }

    /** Forgets the snapshot (its record deleted for good) and returns it; its layer is the caller's to remove. */
    SnapshotRecord remove(String key) {
        SnapshotRecord r;
        synchronized (this) {
            r = get("remove", key);
            if (children.getOrDefault(r.id(), 0) > 0) {
                throw new SnapshotException(Reason.FAILED_PRECONDITION, "remove", key, "cannot remove snapshot with child");
            }
            if (busy.contains(r.id())) throw new SnapshotException(Reason.FAILED_PRECONDITION, "remove", key, "snapshot is being committed");
            busy.add(r.id());
        }
        boolean deleted = false;
        try {
            files.delete(r.id());
            deleted = true;
        } finally {
            synchronized (this) {
                busy.remove(r.id());
                if (deleted) remove(r);
            }
        }
        return r;
    }

    private void insert(SnapshotRecord r) {
        byName.put(r.name(), r);
        byId.put(r.id(), r);
        if (r.parentId() != null) children.merge(r.parentId(), 1, Integer::sum);
    }

    private void remove(SnapshotRecord r) {
        byName.remove(r.name(), r);
        byId.remove(r.id(), r);
        if (r.parentId() != null) children.merge(r.parentId(), -1, Integer::sum);
    }

    private String newId() {
        String id;
        do {
            byte[] b = new byte[8];
            RANDOM.nextBytes(b);
            id = HexFormat.of().formatHex(b);
        } while (byId.containsKey(id));
        return id;
    }

    @Override
    public void close() {
        files.close();
        try {
            lock.release();
            lockFile.close();
        } catch (IOException ignored) {
            // closing the channel releases the lock anyway
        }
    }
}
