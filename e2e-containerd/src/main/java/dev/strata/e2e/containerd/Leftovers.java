package dev.strata.e2e.containerd;

import dev.strata.testsupport.Host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a test's engines may leave behind, found by the test's marker: processes that mention it (daemons, shims,
 * runc, container processes) and cgroups named by it.
 */
final class Leftovers {
    private Leftovers() {
    }

    /** SIGKILLs what is left that mentions {@code marker}, a few rounds (a shim may start a process late). */
    public static List<String> killAllMentioning(String marker) {
        List<String> killed = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            List<Host.Proc> left = Host.processesMentioning(marker);
            if (left.isEmpty()) break;
            for (Host.Proc p : left) {
                killed.add("process " + p.pid() + ": " + p.cmdline());
                ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
            Host.sleep(300);
        }
        return killed;
    }

    /**
     * Removes the cgroups named {@code marker} (directly under each hierarchy's root), deepest first; returns those
     * that could not be removed (they still have tasks).
     */
    public static List<String> removeCgroups(String marker) {
        List<String> busy = new ArrayList<>();
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> found = new ArrayList<>();
        if (Files.isDirectory(root.resolve(marker))) found.add(root.resolve(marker)); // cgroup v2
        try (var top = Files.list(root)) {
            for (Path hierarchy : top.toList()) {
                Path p = hierarchy.resolve(marker);
                if (Files.isDirectory(p)) found.add(p);
            }
        } catch (IOException e) {
            return busy;
        }
        for (Path cg : found) {
            try (var walk = Files.walk(cg)) {
                for (Path d : walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.delete(d);
                    } catch (IOException e) {
                        busy.add("cgroup " + d);
                    }
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        return busy;
    }

}
