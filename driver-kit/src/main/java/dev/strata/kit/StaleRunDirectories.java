package dev.strata.kit;

import dev.strata.nativeio.PosixFiles;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Removes the run directories ({@link RunDirectory}) whose homes are gone: nothing else would, and a test run leaves
 * hundreds on the tmpfs. What a run directory holds (the home lock, crash marks, reference counts, the children
 * index cache) is what a reboot wipes, and the kit recovers from its absence exactly as after a reboot: counts are
 * checked against the mount table when first met, the index is rebuilt, and every storage's commit point is atomic,
 * so a lost mark leaves nothing half made reported.
 *
 * <p>A directory is removed only when all of these hold:
 * <ul>
 *   <li>its {@code home} note names a path whose hash is the directory's name (a directory without a readable note
 *   is never touched: nothing says whose it is, and the kit has written the note since its first version, so only a
 *   process killed between the mkdir and the note leaves one, holding nothing);</li>
 *   <li>that home exists in no mount namespace (nor chroot) of any process we can see, through
 *   {@code /proc/<pid>/root}: a home mounted in a private namespace ({@code unshare -m}) keeps its directory while any
 *   process is in that namespace. If a process of our own uid is in a namespace we cannot look into (a sibling user
 *   namespace, {@code unshare -Urm}), or a mount namespace is pinned by a bind mount with no process in it, nothing
 *   is swept at all: we cannot tell whose homes are there;</li>
 *   <li>its home lock is free (taken without waiting, and held while deleting), and the home is still missing
 *   under the base lock, which {@link RunDirectory#forHome} takes after making the home and before handing out
 *   the directory: a directory is never deleted under an operation, nor after a driver has been given it for a
 *   home that exists.</li>
 * </ul>
 * A home that is missing only because its filesystem is not mounted now loses its directory, which is harmless: no
 * layer of it can be mounted (an overlay or a loop device would pin that filesystem), so its counts are all zero,
 * as after a reboot. A home seen only from another mount namespace that no process is in any more is gone with its
 * mounts too (the namespace took them), so again nothing counted is lost.
 */
final class StaleRunDirectories {
    private static final Pattern NAME = Pattern.compile("[0-9a-f]{16}");
    /** The bases a background sweep has started for in this process (a test adds its own base to have none). */
    static final Set<Path> STARTED = ConcurrentHashMap.newKeySet();

    private StaleRunDirectories() {
    }

    /**
     * Sweeps {@code base} on a daemon thread, once per process: opening a driver never waits for it, and a process that
     * exits first leaves the rest to the next (a directory is deleted under its locks, its note last).
     */
    static void sweepOnceInBackground(Path base) {
        if (!STARTED.add(base)) return;
        Thread t = new Thread(() -> {
            try {
                sweep(base);
            } catch (RuntimeException e) {
                // best effort: a stale directory costs a few KiB of tmpfs, never correctness
            }
        }, "strata-run-dir-sweep");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    /** Removes the stale run directories under {@code base}; the number removed. */
    static int sweep(Path base) {
        Map<Path, String> missing = new LinkedHashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(base)) {
            for (Path dir : ds) {
                String name = dir.getFileName().toString();
                if (!NAME.matcher(name).matches()) continue;
                String home = note(dir);
                if (home == null || !RunDirectory.hash(home).equals(name) || exists(Path.of(home))) continue;
                missing.put(dir, home);
            }
        } catch (IOException e) {
            return 0;
        }
        if (missing.isEmpty()) return 0;
        List<Path> otherRoots = otherRoots();
        if (otherRoots == null) return 0; // somewhere we cannot look might hold these homes
        int removed = 0;
        for (Map.Entry<Path, String> e : missing.entrySet()) {
            String home = e.getValue();
            if (existsIn(otherRoots, home)) continue;
            Path dir = e.getKey();
            try {
                removed += RunDirectory.underBaseLock(base, () -> exists(Path.of(home)) ? 0 : removeIfFree(dir));
            } catch (IOException | RuntimeException ex) {
                // a lock we could not take or open (EACCES, say): left as it is, the sweep goes on
            }
        }
        return removed;
    }

    /** The home a run directory serves, or null when its note is missing or unreadable. */
    private static String note(Path dir) {
        try {
            String s = new String(Files.readAllBytes(dir.resolve(RunDirectory.HOME_NOTE)), StandardCharsets.UTF_8);
            return s.endsWith("\n") && s.startsWith("/") ? s.substring(0, s.length() - 1) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Deletes {@code dir} if its home lock is free; 1 when it did. The lock is held until the directory is gone. */
    private static int removeIfFree(Path dir) {
        Path lock = dir.resolve(DriverKit.HOME_LOCK);
        int fd = LockFiles.tryLockExisting(lock);
        if (fd == LockFiles.HELD) return 0;
        try {
            // The note last but the directory: a sweep cut short leaves a directory the next one still recognises.
            deleteBelow(dir, Set.of(RunDirectory.HOME_NOTE));
            Files.deleteIfExists(dir.resolve(RunDirectory.HOME_NOTE));
            Files.deleteIfExists(dir);
            return 1;
        } catch (IOException e) {
            return 0; // something appeared meanwhile (a stray process of an old version): left for the next sweep
        } finally {
            if (fd >= 0) LockFiles.close(fd);
        }
    }

    /** Deletes everything below {@code dir} but the entries named in {@code keep}. */
    static void deleteBelow(Path dir, Set<String> keep) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) if (!keep.contains(p.getFileName().toString())) entries.add(p);
        }
        for (Path p : entries) {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) deleteBelow(p, Set.of());
            Files.deleteIfExists(p);
        }
    }

    /** Whether anything is at {@code p}; a path we cannot look at (EACCES, say) counts as there. */
    private static boolean exists(Path p) {
        try {
            return PosixFiles.lexists(p);
        } catch (RuntimeException e) {
            return true;
        }
    }

    private static boolean existsIn(List<Path> roots, String home) {
        for (Path root : roots) if (exists(Path.of(root + home))) return true;
        return false;
    }

    /**
     * One {@code /proc/<pid>/root} for each (mount namespace, root) other than ours among the live processes; null when
     * some process of our uid is where we cannot look, or a mount namespace is pinned without a process.
     */
    private static List<Path> otherRoots() {
        String ownNs = link(Path.of("/proc/self/ns/mnt"));
        String ownRoot = link(Path.of("/proc/self/root"));
        String ownTable = firstMount(Path.of("/proc/self"));
        String uid = RunDirectory.uid();
        Set<String> seen = new HashSet<>();
        List<Path> roots = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p.getFileName().toString()))) {
            for (Path proc : ds) {
                String ns, root;
                try {
                    ns = Files.readSymbolicLink(proc.resolve("ns/mnt")).toString();
                    root = Files.readSymbolicLink(proc.resolve("root")).toString();
                } catch (NoSuchFileException e) {
                    continue; // exited
                } catch (IOException e) {
                    // Not ours to look into (a sandbox's init, a sibling user namespace). Its mount table still says
                    // whether it shares ours: mount ids are never shared between namespaces.
                    if (!ownTable.isEmpty() && ownTable.equals(firstMount(proc)) || !ownedBy(proc, uid)) continue;
                    return null; // one of our uid, in a namespace we cannot see into
                }
                if (ns.equals(ownNs) && root.equals(ownRoot)) continue;
                if (!seen.add(ns + " " + root)) continue;
                if (pinsNamespaces(proc)) return null;
                roots.add(proc.resolve("root"));
            }
        } catch (IOException e) {
            return null;
        }
        return pinsNamespaces(Path.of("/proc/self")) ? null : roots;
    }

    /** The first line of a process's mount table (its root mount, with its id), or "" when it cannot be read. */
    private static String firstMount(Path proc) {
        try (BufferedReader r = Files.newBufferedReader(proc.resolve("mountinfo"))) {
            String line = r.readLine();
            return line == null ? "" : line;
        } catch (IOException e) {
            return "";
        }
    }

    /** Whether the process's mount table has a mount namespace bind-mounted (kept alive with no process in it). */
    private static boolean pinsNamespaces(Path proc) {
        try {
            for (String line : Files.readAllLines(proc.resolve("mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 3 && f[3].startsWith("mnt:[")) return true;
            }
            return false;
        } catch (IOException e) {
            return false; // exited meanwhile
        }
    }

    private static boolean ownedBy(Path proc, String uid) {
        try {
            return String.valueOf(Files.getAttribute(proc, "unix:uid")).equals(uid);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            return "";
        }
    }

    private static boolean isPid(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        return true;
    }
}
