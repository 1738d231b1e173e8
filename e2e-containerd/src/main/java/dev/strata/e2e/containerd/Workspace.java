package dev.strata.e2e.containerd;

import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A directory of its own for one test's engines, {@code /tmp/<marker>}, optionally a fresh tmpfs. The marker also
 * names the containerd namespace and the cgroup parent, so that whatever the engines leave behind (daemons, shims,
 * container processes, mounts, cgroups) is found by it, removed, and reported.
 */
public final class Workspace implements AutoCloseable {
    public final String marker;
    public final Path dir;
    private final boolean tmpfs;

    private Workspace(String marker, Path dir, boolean tmpfs) {
        this.marker = marker;
        this.dir = dir;
        this.tmpfs = tmpfs;
    }

    /**
     * @param name  what the test is, e.g. {@code ctr-overlay}
     * @param tmpfs a tmpfs of this size (e.g. "2g"), or null to stay on the file system of /tmp
     */
    public static Workspace create(String name, String tmpfs) {
        String marker = "strata-ctd-" + ProcessHandle.current().pid() + "-" + name;
        Path dir = Path.of("/tmp", marker);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (tmpfs != null) Mounts.mount(marker, dir, "tmpfs", 0, "size=" + tmpfs + ",mode=0755");
        return new Workspace(marker, dir, tmpfs != null);
    }

    public Path resolve(String name) {
        return dir.resolve(name);
    }

    /**
     * Removes everything the engines left: processes that mention the marker (killed), mounts under the directory,
     * cgroups named by the marker, the directory. Logs ({@code *.log} at any depth up to 2) are copied to
     * {@code keepLogsIn} first. Returns what had leaked: processes, mounts, cgroups that still had tasks.
     */
    public List<String> cleanUp(Path keepLogsIn) {
        List<String> leaked = new ArrayList<>(Leftovers.killAllMentioning(marker));
        keepLogs(keepLogsIn);
        for (MountInfo m : MountInfo.under(dir)) {
            if (!(tmpfs && m.mountPoint().equals(dir.toString()))) leaked.add("mount " + m.mountPoint());
        }
        Mounts.unmountAllUnder(dir);
        leaked.addAll(Leftovers.removeCgroups(marker));
        List<MountInfo> busy = MountInfo.under(dir);
        if (!busy.isEmpty()) { // never delete through a mount that is still there
            busy.forEach(m -> leaked.add("mount that would not unmount: " + m.mountPoint()));
            return leaked;
        }
        try {
            if (Files.exists(dir)) {
                try (var walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            leaked.add("cannot remove " + dir + ": " + e);
        }
        return leaked;
    }

    private void keepLogs(Path keepLogsIn) {
        if (keepLogsIn == null || !Files.isDirectory(dir)) return;
        try (var walk = Files.walk(dir, 2)) {
            Files.createDirectories(keepLogsIn);
            for (Path log : walk.filter(p -> p.toString().endsWith(".log") && Files.isRegularFile(p)).toList()) {
                String name = marker + "-" + dir.relativize(log).toString().replace('/', '-');
                Files.copy(log, keepLogsIn.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            System.err.println("e2e: cannot keep the logs of " + dir + ": " + e);
        }
    }

    @Override
    public void close() {
        cleanUp(null);
    }
}
