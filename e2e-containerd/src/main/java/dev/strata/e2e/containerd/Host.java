package dev.strata.e2e.containerd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Running commands, and finding and removing what a test's engines left on the machine. */
public final class Host {
    private Host() {
    }

    /** A finished command. */
    public record Result(List<String> command, int code, String out, String err) {
        /** This result if the command exited 0, else an AssertionError with its output. */
        public Result ok() {
            if (code != 0) {
                throw new AssertionError(String.join(" ", command) + " exited " + code + "\nstdout: " + out + "\nstderr: " + err);
            }
            return this;
        }
    }

    /** Runs a command to completion (killing it after {@code timeoutSeconds}), stdin from /dev/null. */
    public static Result run(List<String> command, Map<String, String> env, long timeoutSeconds) {
        try {
            Path out = Files.createTempFile("strata-e2e-out", ".txt");
            Path err = Files.createTempFile("strata-e2e-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s; stderr: "
                            + Files.readString(err));
                }
                return new Result(List.copyOf(command), p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }

    /** A process found by {@link #processesMentioning}. */
    public record Proc(long pid, String cmdline) {
    }

    /**
     * Processes whose command line or cgroup mentions {@code marker}: how a test's daemons, shims, runc and container
     * processes are told from anyone else's (every path, namespace and cgroup parent of a test carries its marker).
     */
    public static List<Proc> processesMentioning(String marker) {
        List<Proc> found = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path d : dirs.toList()) {
                String name = d.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == self) continue;
                try {
                    String cmd = new String(Files.readAllBytes(d.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').trim();
                    String cgroup = Files.readString(d.resolve("cgroup"));
                    if (cmd.contains(marker) || cgroup.contains(marker)) found.add(new Proc(Long.parseLong(name), cmd));
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot list /proc", e);
        }
        return found;
    }

    /** SIGKILLs what is left that mentions {@code marker}, a few rounds (a shim may start a process late). */
    public static List<String> killAllMentioning(String marker) {
        List<String> killed = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            List<Proc> left = processesMentioning(marker);
            if (left.isEmpty()) break;
            for (Proc p : left) {
                killed.add("process " + p.pid() + ": " + p.cmdline());
                ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
            sleep(300);
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

    /** Resident memory of a process in KiB, or -1 when it is gone. */
    public static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException gone) {
            // exited
        }
        return -1;
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no " + log + ": " + e + ")";
        }
    }
}
