package dev.strata.kit;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Ties a run directory to one home, not to its path. A run directory is named by the home's path and outlives the
 * home: deleted and made again at the same path before the stale sweep ran ({@link StaleRunDirectories}), the new
 * home would inherit the old one's children index (built, so never built again: a child of a restored or foreign
 * layer would be missing and its parent removable), its abandoned marks (finished on layers of the new home) and its
 * {@code swept} note. So the home holds a token, {@code <home>/.strata/home-id} (random, written once), and the run
 * directory records it with the token file's birth time; a run directory whose record differs from the home's is
 * emptied before it is used, as a reboot would have emptied it (the stale sweep deletes it on the same grounds). One
 * made before this record is adopted by the first open, whatever home it served.
 *
 * <p>The birth time tells a restored copy of a home (its token copied too) from the original. The home's inode
 * number would not: ext4 gives a directory made just after one was deleted the same number. Where the filesystem
 * keeps no birth time the JDK reports the mtime, which a copy keeps: such a restore goes unseen, a home made anew
 * (no token) does not. A home we cannot write gets no token and no record: its run directory is trusted as before.
 */
final class HomeIdentity {
    /** In the run directory: the identity of the home it serves. */
    static final String RECORD = "home-id";
    /** In the run directory, kept when it is emptied: the note naming its home, the home lock (held while emptying). */
    private static final Set<String> KEPT = Set.of(RunDirectory.HOME_NOTE, DriverKit.HOME_LOCK);
    /** How long an open waits for an earlier home's operation in flight before it gives up. */
    private static final long WAIT_NANOS = 10_000_000_000L;

    private HomeIdentity() {
    }

    /**
     * Makes {@code dir} the run directory of the home at {@code real} as it is now: records its identity, after
     * emptying {@code dir} if it recorded another home's. {@code fresh}: {@code dir} was just made. Call under the
     * base lock ({@link RunDirectory#underBaseLock}).
     */
    static void bind(Path dir, Path real, boolean fresh) throws IOException {
        String home = of(real);
        Path record = dir.resolve(RECORD);
        String recorded = read(record);
        if (home != null && home.equals(recorded)) return;
        // No record: a run directory made by a Strata that kept none, whose processes may hold mounts counted in it
        // right now. Adopted as it is, as that Strata did; emptying it would lose live counts.
        if (recorded != null && !fresh) empty(dir);
        if (home == null) Files.deleteIfExists(record);
        else AtomicFiles.write(record, home);
    }

    /** The home's identity (its token and the token file's birth time), the token made if missing; null if unwritable. */
    static String of(Path real) throws IOException {
        Path token = real.resolve(DriverKit.STATE_DIR).resolve(RECORD);
        String t = read(token);
        if (t == null) {
            if (!Files.isWritable(real)) return null;
            byte[] b = new byte[16];
            new SecureRandom().nextBytes(b);
            Files.createDirectories(token.getParent());
            AtomicFiles.write(token, HexFormat.of().formatHex(b) + "\n");
            t = read(token);
            if (t == null) return null;
        }
        BasicFileAttributes a = Files.readAttributes(token, BasicFileAttributes.class);
        return t.strip() + " " + a.creationTime().toInstant() + "\n";
    }

    private static String read(Path p) throws IOException {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Deletes what {@code dir} holds for the home it served, once no operation is in flight there: its home lock taken
     * without waiting, and no mark held by a live process (a create marks, then works without the home lock). Waits
     * up to {@link #WAIT_NANOS} for them, then refuses.
     */
    private static void empty(Path dir) throws IOException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        Path lock = dir.resolve(DriverKit.HOME_LOCK);
        while (true) {
            int fd = LockFiles.tryLockExisting(lock);
            if (fd != LockFiles.HELD) {
                try {
                    if (!heldMarks(dir)) {
                        StaleRunDirectories.deleteBelow(dir, KEPT);
                        return;
                    }
                } finally {
                    if (fd >= 0) LockFiles.close(fd);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new StorageException("open", dir.toString(), "this run directory served an earlier home at the same"
                        + " path, and a process still works in it; retry when it has finished");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StorageException("open", dir.toString(), "interrupted while waiting for an earlier home's operation", e);
            }
        }
    }

    private static boolean heldMarks(Path dir) throws IOException {
        for (String kind : new String[]{DriverKit.INCOMPLETE, DriverKit.APPLYING}) {
            Path marks = dir.resolve(kind);
            if (!Files.isDirectory(marks)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(marks)) {
                for (Path m : ds) {
                    int fd = LockFiles.tryLockExisting(m);
                    if (fd == LockFiles.HELD) return true;
                    if (fd >= 0) LockFiles.close(fd);
                }
            }
        }
        return false;
    }
}
