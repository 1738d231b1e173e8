package dev.strata.kernellab;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * qemu or virtiofsd. Started through {@code setpriv --pdeathsig KILL} when util-linux has it, so that the kernel
 * kills the process if the thread that started it dies (a JVM killed with SIGKILL runs no shutdown hook).
 */
final class GuestProcess {
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private final String name;
    private final Process process;
    private final Path log;

    private GuestProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** @param pipeStdout give the caller stdout (the serial console); otherwise it goes to {@code log} with stderr */
    static GuestProcess start(String name, List<String> argv, Path log, boolean pipeStdout) {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        cmd.addAll(argv);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        if (!pipeStdout) pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            return new GuestProcess(name, pb.start(), log);
        } catch (IOException e) {
            String hint = name.equals("qemu") ? " (apt-get install qemu-system-x86)" : " (apt-get install qemu-system-x86; virtiofsd ships with it)";
            throw new KernelLabException("cannot start " + name + " " + argv.getFirst() + ": " + e.getMessage() + hint, e);
        }
    }

    Process process() {
        return process;
    }

    long pid() {
        return process.pid();
    }

    String exitStatus() {
        return process.isAlive() ? "running" : Integer.toString(process.exitValue());
    }

    boolean awaitExit(Duration d) {
        try {
            return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** SIGKILL and reap. Idempotent. */
    void kill() {
        if (!process.isAlive()) return;
        process.destroyForcibly();
        if (!awaitExit(Duration.ofSeconds(10))) {
            throw new KernelLabException(name + " (pid " + process.pid() + ") did not die after SIGKILL");
        }
    }

    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }
}
