package dev.strata.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
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
 * Marks for layers whose create, apply or remove has not finished. A driver marks a layer before it starts
 * writing it and clears the mark when done; {@code exists} never reports a marked layer.
 *
 * <p>The process that marks a layer holds an {@code flock} on the mark until it clears it. The kernel drops that
 * lock when the process dies, however it dies, so a mark nobody holds is one a crash or a kill left behind:
 * {@link #abandoned} lists exactly those, and the driver removes their layers when it opens. A mark held by a live
 * process (another {@code strata} command applying a layer right now) is left alone, and so is one this instance
 * holds; a mark held by another instance in this JVM counts as abandoned (one process serves a home through one
 * instance, so a second instance is a restart).
 */
public final class IncompleteLayers {
    private final Path dir;
    private final ConcurrentHashMap<String, FileChannel> held = new ConcurrentHashMap<>();

    /** @param dir where marks live, e.g. {@code <home>/.incomplete} */
    public IncompleteLayers(Path dir) {
        this.dir = dir;
    }

    /** Marks {@code id} durably (the mark survives a crash right after this returns) and holds it until {@link #clear}. */
    public void mark(String id) {
        Path f = dir.resolve(id);
        try {
            Files.createDirectories(dir);
            FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                ch.lock();
            } catch (OverlappingFileLockException alreadyOurs) {
                // another driver instance in this JVM holds it: the mark is live either way
            }
            FileChannel previous = held.put(id, ch);
            if (previous != null) previous.close();
            AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw new StorageException("mark incomplete", id, e.toString(), e);
        }
    }

    /** Clears the mark durably and lets go of it. */
    public void clear(String id) {
        try {
            if (Files.deleteIfExists(dir.resolve(id))) AtomicFiles.syncDirectory(dir);
            FileChannel ch = held.remove(id);
            if (ch != null) ch.close();
        } catch (IOException e) {
            throw new StorageException("clear incomplete", id, e.toString(), e);
        }
    }

    public boolean isIncomplete(String id) {
        return Files.exists(dir.resolve(id));
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

    /** The marks no live process holds: layers a crash or a kill left half made, to be removed. */
    public List<String> abandoned() {
        List<String> out = new ArrayList<>();
        for (String id : list()) {
            if (held.containsKey(id)) continue;
            Path f = dir.resolve(id);
            try {
                Object before = fileKey(f);
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    FileLock lock;
                    try {
                        lock = ch.tryLock();
                    } catch (OverlappingFileLockException ours) {
                        // Held by an earlier driver instance of this JVM: a process serves a home through one
                        // instance, so a second one is a restart, and what the first left marked is abandoned.
                        out.add(id);
                        continue;
                    }
                    // Not held, and still the same mark (not cleared and made again while we looked).
                    if (lock != null && before != null && Objects.equals(before, fileKey(f))) out.add(id);
                }
            } catch (NoSuchFileException gone) {
                // cleared while we looked
            } catch (IOException e) {
                throw new StorageException("check incomplete", f.toString(), e.toString(), e);
            }
        }
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
