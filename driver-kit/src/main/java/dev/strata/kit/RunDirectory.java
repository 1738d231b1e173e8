package dev.strata.kit;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where a driver keeps state that lives exactly as long as its mounts: reference counts. They must outlive the
 * process that took them (the CLI runs one process per command) and mean nothing after a reboot, so they belong on
 * a tmpfs, as containers/storage keeps its mount counts under {@code /run}. A tmpfs also spares the layers'
 * filesystem a small journaled write on every get and put.
 *
 * <p>The base is {@code $STRATA_RUN_DIR} when set, else {@code /run/strata} when {@code /run} is a tmpfs we may
 * write, else {@code $XDG_RUNTIME_DIR/strata} for a user that is not root, else {@code /dev/shm/strata-<uid>}, else
 * {@code <home>/.strata-run}. Each home gets its own subdirectory there, named by a hash of its real path, with a
 * {@code home} file that says which home it serves, and, once the kit has opened it, a record of which home, not
 * path, it serves ({@link HomeIdentity}): a home deleted and made again at the same path gets an emptied one. The
 * base must be a directory of the caller's own, since counts decide what gets unmounted.
 *
 * <p>In a user namespace ({@code unshare -Urm}) "the caller" is the user the namespace maps to: {@code <uid>} and the
 * root test use that uid, so a user who is root inside the namespace gets {@code $XDG_RUNTIME_DIR} or
 * {@code /dev/shm/strata-1000}, never the real root's {@code /dev/shm/strata-0}.
 */
public final class RunDirectory {
    private RunDirectory() {
    }

    /**
     * The run directory of the driver whose home is {@code home}, created (mode 0700) if missing. Making one starts,
     * once per process and base, a background sweep of the run directories whose homes are gone
     * ({@link StaleRunDirectories}).
     */
    public static Path forHome(Path home) {
        return forHome(home, false);
    }

    /**
     * {@link #forHome}, for the kit that keeps its state there: the run directory is also tied to the home it is
     * given for ({@link HomeIdentity}), emptied first if it served an earlier home at the same path.
     */
    static Path forKit(Path home) {
        return forHome(home, true);
    }

    private static Path forHome(Path home, boolean bind) {
        Path real;
        try {
            Files.createDirectories(home);
            real = home.toRealPath();
        } catch (IOException e) {
            throw new StorageException("open", home.toString(), e.toString(), e);
        }
        Path base = base();
        if (base == null) {
            Path own = real.resolve(".strata-run");
            try {
                createPrivate(own);
            } catch (IOException e) {
                throw new StorageException("open", own.toString(), e.toString(), e);
            }
            return own;
        }
        return in(base, real, bind);
    }

    /**
     * The run directory under {@code base} of the home whose real path is {@code real}, made if missing; with
     * {@code bind}, tied to that home ({@link #forKit}).
     */
    static Path in(Path base, Path real, boolean bind) {
        Path dir = base.resolve(hash(real.toString()));
        try {
            createPrivate(base);
            // Under the base lock, after the home exists: a sweep re-checks the home under the same lock before it
            // deletes, so it never deletes a directory a driver has just been handed.
            boolean made = underBaseLock(base, () -> {
                boolean fresh = createPrivate(dir);
                Path note = dir.resolve(HOME_NOTE);
                if (!Files.exists(note)) AtomicFiles.write(note, real + "\n");
                if (bind) HomeIdentity.bind(dir, real, fresh);
                return fresh;
            });
            if (made) StaleRunDirectories.sweepOnceInBackground(base);
            return dir;
        } catch (IOException e) {
            throw new StorageException("open", dir.toString(), e.toString(), e);
        }
    }

    /**
     * Removes, now, the run directories under this process's base whose homes no longer exist and that nobody is
     * using (see {@link StaleRunDirectories}); the number removed. For a test suite's end, and operators.
     */
    public static int sweep() {
        Path base = base();
        return base == null || !Files.isDirectory(base) ? 0 : StaleRunDirectories.sweep(base);
    }

    /** The file in a run directory that names the home it serves (its real path and a newline). */
    static final String HOME_NOTE = "home";

    /** What runs under the base lock; may throw an IOException. */
    @FunctionalInterface
    interface Locked<T> {
        T run() throws IOException;
    }

    private static final ConcurrentHashMap<Path, ReentrantLock> BASE_LOCKS = new ConcurrentHashMap<>();

    /**
     * Runs {@code body} holding the base's lock, taken around making a run directory and around deleting one, so the
     * two never interleave: a thread lock, then a POSIX lock on {@code <base>/.lock} through the JDK's FileChannel.
     * Not the kit's {@link Flock}: every command's start comes here, and its first downcall costs a cold JVM
     * ~100-200 ms of linking (which {@link KitRecovery#atOpen} spares read-only commands).
     */
    static <T> T underBaseLock(Path base, Locked<T> body) throws IOException {
        ReentrantLock thread = BASE_LOCKS.computeIfAbsent(base.toAbsolutePath().normalize(), k -> new ReentrantLock());
        thread.lock();
        try (FileChannel ch = FileChannel.open(base.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            return body.run();
        } finally {
            thread.unlock();
        }
    }

    /** The base of every home's run directory; null when there is none and each home keeps its own. */
    private static Path base() {
        String env = System.getenv("STRATA_RUN_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        List<String[]> mounts = mounts();
        if ("0".equals(kernelUid()) && isTmpfs(mounts, "/run") && Files.isWritable(Path.of("/run"))) return Path.of("/run/strata");
        String uid = kernelUid();
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (!"0".equals(uid) && xdg != null && !xdg.isBlank() && Files.isWritable(Path.of(xdg))) return Path.of(xdg, "strata");
        if (isTmpfs(mounts, "/dev/shm") && Files.isWritable(Path.of("/dev/shm"))) return Path.of("/dev/shm/strata-" + uid);
        return null;
    }

    /** Makes {@code dir} (mode 0700) unless it is there, and checks it is our own; whether this call made it. */
    private static boolean createPrivate(Path dir) throws IOException {
        boolean made = false;
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                made = true;
            } catch (java.nio.file.FileAlreadyExistsException ignored) {
                // made by a concurrent process
            }
        }
        // In a world-writable place such as /dev/shm, only a directory of our own will do.
        Object owner = Files.getAttribute(dir, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (!String.valueOf(owner).equals(uid()) || Files.isSymbolicLink(dir)) {
            throw new IOException(dir + " is not a directory owned by uid " + uid() + (kernelUid().equals(uid()) ? ""
                    : " (uid " + kernelUid() + " outside this user namespace)") + "; set STRATA_RUN_DIR to a directory of your own");
        }
        return made;
    }

    /** A run directory's name: the first 8 bytes of the SHA-256 of its home's real path, in hex. */
    static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** /proc/self/mountinfo as (mount point, fs type) pairs; the last mount at a point is the visible one. */
    private static List<String[]> mounts() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> {
                String[] f = l.split(" ");
                int sep = 6;
                while (sep < f.length && !f[sep].equals("-")) sep++;
                return new String[]{f[4], sep + 1 < f.length ? f[sep + 1] : ""};
            }).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static boolean isTmpfs(List<String[]> mounts, String point) {
        String type = null;
        for (String[] m : mounts) if (m[0].equals(point)) type = m[1];
        return "tmpfs".equals(type);
    }

    /**
     * The uid the kernel knows this process by outside any user namespace: what the namespace's {@code uid_map} maps
     * our uid to. Without a user namespace the map is the identity and this is {@link #uid()}.
     */
    static String kernelUid() {
        String uid = uid();
        try {
            long u = Long.parseLong(uid);
            for (String line : Files.readAllLines(Path.of("/proc/self/uid_map"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length != 3) continue;
                long inside = Long.parseLong(f[0]), outside = Long.parseLong(f[1]), count = Long.parseLong(f[2]);
                if (u >= inside && u - inside < count) return Long.toString(outside + (u - inside));
            }
        } catch (IOException | NumberFormatException e) {
            // no map to read: not in a user namespace we can see through
        }
        return uid;
    }

    static String uid() {
        try {
            return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return "0";
        }
    }
}
