package dev.strata.kit;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Marks for operations on a layer that have not finished, one file per id in {@code dir}, holding a short note
 * (what the operation was, e.g. {@code create <parent>}).
 *
 * <p>The process that marks an id holds an {@code flock} on the mark until it clears it. The kernel drops that lock
 * when the process dies, however it dies, so a mark nobody holds is one a crash or a kill left behind:
 * {@link #abandoned} lists exactly those. A mark held by a live process (another {@code strata} command working on
 * that layer right now) is {@link State#LIVE}, and so is one this instance holds; a mark held by another instance in
 * this JVM counts as abandoned (one process serves a home through one instance, so a second instance is a restart).
 *
 * <p>Nothing here calls fsync: a mark must survive the death of the process, which the page cache guarantees. Across
 * a power loss the kit relies on the filesystem keeping metadata operations in order (ext4, xfs and btrfs do), so
 * a mark made before a layer's files is never lost while they survive.
 *
 * <p>Java's file locks are POSIX record locks: closing any descriptor of a file drops every lock this process holds
 * on it. So a mark this process holds is never opened again here ({@link #state} answers from {@link #held}, and
 * {@link #note} is read only from abandoned marks).
 */
public final class Marks {
    public enum State { NONE, LIVE, ABANDONED }

    private final Path dir;
    private final ConcurrentHashMap<String, FileChannel> held = new ConcurrentHashMap<>();

    /** @param dir where marks live, e.g. {@code <home>/.strata/incomplete} */
    public Marks(Path dir) {
        this.dir = dir;
    }

    public Path directory() {
        return dir;
    }

    /** Marks {@code id} with {@code note} and holds the mark until {@link #clear} or {@link #release}. */
    public void mark(String id, String note) {
        Path f = dir.resolve(id);
        try {
            FileChannel ch;
            try {
                ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            } catch (NoSuchFileException e) {
                Files.createDirectories(dir);
                ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            }
            try {
                ch.lock();
            } catch (OverlappingFileLockException alreadyOurs) {
                // another driver instance in this JVM holds it: the mark is live either way
            }
            ch.write(ByteBuffer.wrap(note.getBytes(StandardCharsets.UTF_8)), 0);
            FileChannel previous = held.put(id, ch);
            if (previous != null) previous.close();
        } catch (IOException e) {
            throw new StorageException("mark", f.toString(), e.toString(), e);
        }
    }

    /** Removes the mark and lets go of it. */
    public void clear(String id) {
        try {
            Files.deleteIfExists(dir.resolve(id));
            release(id);
        } catch (IOException e) {
            throw new StorageException("clear mark", dir.resolve(id).toString(), e.toString(), e);
        }
    }

    /** Lets go of the mark but leaves it: from now on it is abandoned, to be finished by whoever opens next. */
    public void release(String id) {
        FileChannel ch = held.remove(id);
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing drops the lock either way
        }
    }

    /** Whether a mark is there, held or not. One stat, no exception. */
    public boolean isMarked(String id) {
        return Files.exists(dir.resolve(id));
    }

    public State state(String id) {
        if (held.containsKey(id)) return State.LIVE;
        Path f = dir.resolve(id);
        try {
            Object before = fileKey(f);
            if (before == null) return State.NONE;
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                FileLock lock;
                try {
                    lock = ch.tryLock();
                } catch (OverlappingFileLockException ours) {
                    // held by an earlier driver instance of this JVM: a restart, so what it left is abandoned
                    return State.ABANDONED;
                }
                if (lock == null) return State.LIVE;
                // not held, and still the same mark (not cleared and made again while we looked)
                return Objects.equals(before, fileKey(f)) ? State.ABANDONED : State.LIVE;
            }
        } catch (NoSuchFileException gone) {
            return State.NONE;
        } catch (IOException e) {
            throw new StorageException("check mark", f.toString(), e.toString(), e);
        }
    }

    /** The note a mark was made with, or null when there is no mark (a mark from before notes reads as ""). */
    public String note(String id) {
        try {
            return Files.readString(dir.resolve(id), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StorageException("read mark", dir.resolve(id).toString(), e.toString(), e);
        }
    }

    /** Every marked id, held or not. */
    public List<String> list() {
        List<String> ids = new ArrayList<>();
        if (!Files.isDirectory(dir)) return ids;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.startsWith(".")) ids.add(name);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ids;
    }

    /** The marks no live process holds: operations a crash or a kill cut short. */
    public List<String> abandoned() {
        List<String> out = new ArrayList<>();
        for (String id : list()) if (state(id) == State.ABANDONED) out.add(id);
        return out;
    }

    private static Object fileKey(Path f) throws IOException {
        try {
            return Files.readAttributes(f, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
