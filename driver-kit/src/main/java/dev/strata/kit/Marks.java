package dev.strata.kit;

import dev.strata.nativeio.PosixFiles;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Marks for operations on a layer that have not finished, one file per id in {@code dir}, holding a short note
 * (what the operation was, e.g. {@code create <parent>}).
 *
 * <p>The process that marks an id holds an {@code flock} on the mark until it clears it ({@link LockFiles}). The
 * kernel drops that lock when the process dies, however it dies, so a mark nobody holds is one a crash or a kill left
 * behind: {@link #abandoned} lists exactly those. A mark held by a live process (another {@code strata} command, or
 * another thread of this one, working on that layer right now) is {@link State#LIVE}.
 *
 * <p>Marks live in the run directory, a tmpfs: they must survive the death of the process, not a reboot (see
 * {@link DriverKit}), and a tmpfs makes the two small writes of every create and remove cost no journal.
 */
public final class Marks {
    public enum State { NONE, LIVE, ABANDONED }

    private final Path dir;
    /** The descriptors of the marks this instance holds. */
    private final ConcurrentHashMap<String, Integer> held = new ConcurrentHashMap<>();

    /** @param dir where marks live, e.g. {@code <run directory>/incomplete} */
    public Marks(Path dir) {
        this.dir = dir;
    }

    public Path directory() {
        return dir;
    }

    /**
     * Marks {@code id} with {@code note} and holds the mark until {@link #clear} or {@link #release}. Returns false,
     * marking nothing, when there is a mark for the id already (held by someone, or abandoned: see {@link #state}).
     */
    public boolean mark(String id, String note) {
        int fd = LockFiles.createLocked(dir.resolve(id), note.getBytes(StandardCharsets.UTF_8));
        if (fd == LockFiles.EXISTS) return false;
        Integer previous = held.put(id, fd);
        if (previous != null) LockFiles.close(previous);
        return true;
    }

    /** Removes the mark and lets go of it. */
    public void clear(String id) {
        PosixFiles.unlinkIfExists(dir.resolve(id));
        release(id);
    }

    /** Lets go of the mark but leaves it: from now on it is abandoned, to be finished by whoever opens next. */
    public void release(String id) {
        Integer fd = held.remove(id);
        if (fd != null) LockFiles.close(fd);
    }

    /** Whether a mark is there, held or not. One statx, no exception. */
    public boolean isMarked(String id) {
        return LockFiles.exists(dir.resolve(id));
    }

    public State state(String id) {
        if (held.containsKey(id)) return State.LIVE;
        int fd = LockFiles.tryLockExisting(dir.resolve(id));
        if (fd == LockFiles.MISSING) return State.NONE;
        if (fd == LockFiles.HELD) return State.LIVE;
        LockFiles.close(fd);
        return State.ABANDONED;
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
}
