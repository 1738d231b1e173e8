package dev.strata.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Running commands and finding processes on the test machine. */
public final class Host {
    private Host() {
    }

    public record Result(int code, String out, String err) {
        public Result ok(String what) {
            if (code != 0) throw new AssertionError(what + " exited " + code + "\nstdout: " + out + "\nstderr: " + err);
            return this;
        }
    }

    /** Runs a command to completion (or kills it after {@code timeoutSeconds}). */
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
                return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
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

    /** An executable on the PATH, or null. */
    public static Path which(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p;
        }
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    /** A process found by {@link #processesMentioning}. */
    public record Proc(long pid, String cmdline) {
    }

    /**
     * Processes whose command line or cgroup mentions {@code marker} (our exec root, our containerd namespace, our
     * cgroup parent): how the shims, runc and container processes of this test's dockerd are told from anyone else's.
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

    /** SIGKILLs each process by its id. */
    public static void kill(List<Proc> procs) {
        for (Proc p : procs) ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
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
