package dev.strata.kernellab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** One boot-run-poweroff of the lab. Owns the work directory and the two processes, and always reaps both. */
final class LabRun {
    private final KernelLab.Config config;
    private final GuestCommand command;
    private final String marker = "STRATA-LAB-" + UUID.randomUUID().toString().substring(0, 8);
    private final long start = System.nanoTime();

    private Path workDir;
    private GuestProcess virtiofsd;
    private GuestProcess qemu;
    private volatile String killedBecause;

    LabRun(KernelLab.Config config, GuestCommand command) {
        this.config = config;
        this.command = command;
    }

    LabResult run() {
        // On SIGTERM or SIGINT the JVM runs its hooks and halts without this thread's finally: the hook does its work.
        Thread hook = new Thread(() -> {
            killAll();
            if (!config.keepWorkDir()) deleteWorkDir();
        }, "kernel-lab-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            prepare();
            return boot();
        } finally {
            killAll();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // the JVM is shutting down: the hook runs anyway
            }
            if (!config.keepWorkDir()) deleteWorkDir();
        }
    }

    private Path initramfs;
    private Path scratch;
    private List<String> moduleWarnings = List.of();

    private void prepare() {
        try {
            Files.createDirectories(config.workRoot());
            workDir = Files.createTempDirectory(config.workRoot(), "strata-lab-").toAbsolutePath();
            scratch = Files.createDirectory(workDir.resolve("scratch"));
        } catch (IOException e) {
            throw new KernelLabException("cannot make a work directory under " + config.workRoot() + ": " + e);
        }
        GuestModules mods = GuestModules.resolve(config.effectiveModuleTree(), config.kernel().release(),
                GuestModules.REQUIRED, GuestModules.DEFAULT_OPTIONAL, workDir);
        GuestModules extra = GuestModules.resolve(config.effectiveModuleTree(), config.kernel().release(),
                List.of(), config.extraModules(), workDir).without(mods.files());
        List<String> missing = new ArrayList<>(mods.missing());
        missing.addAll(extra.missing());
        if (!missing.isEmpty()) {
            moduleWarnings = List.of("modules not in " + config.effectiveModuleTree() + ": " + String.join(", ", missing));
        }
        List<Path> files = new ArrayList<>(mods.files());
        files.addAll(extra.files());
        List<String> names = Initramfs.archiveNames(files);
        Path runScript = workDir.resolve("run.sh");
        initramfs = workDir.resolve("initramfs.cpio");
        Initramfs.write(initramfs, config.busybox(), files, GuestScripts.init(marker, names.subList(0, mods.files().size()),
                names.subList(mods.files().size(), names.size()), runScript, scratch));
        try {
            Files.writeString(runScript, GuestScripts.run(command, scratch));
        } catch (IOException e) {
            throw new KernelLabException("cannot write " + runScript + ": " + e);
        }
    }

    private LabResult boot() {
        Path sock = workDir.resolve("virtiofsd.sock");
        // cache=always: the guest is the only writer of what it reads (the host changes nothing under a running
        // guest), and every FUSE round trip costs ~1 ms of TCG time: it halves a JVM's start in the guest.
        virtiofsd = GuestProcess.start("virtiofsd", List.of(config.virtiofsd().toString(), "--socket-path=" + sock,
                "-o", "source=/", "-o", "sandbox=chroot", "-o", "cache=always"), workDir.resolve("virtiofsd.log"), false);
        waitForSocket(sock);
        long memBytes = (long) config.memoryMiB() << 20;
        List<String> q = new ArrayList<>(List.of(config.qemu().toString(),
                "-accel", config.accel(), "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
                "-no-reboot", "-m", config.memoryMiB() + "M", "-smp", Integer.toString(config.cpus()),
                "-kernel", config.kernel().path().toString(), "-initrd", initramfs.toString(),
                // A throwaway test guest: no speculation mitigations, audit or LSMs (each costs TCG time), and the
                // TSC as clocksource instead of the emulated HPET.
                "-append", "console=ttyS0 quiet panic=-1 mitigations=off tsc=reliable audit=0 apparmor=0 security=none",
                "-chardev", "socket,id=vfs,path=" + sock,
                "-device", "vhost-user-fs-pci,chardev=vfs,tag=" + GuestScripts.TAG,
                "-object", "memory-backend-memfd,id=mem,size=" + memBytes + ",share=on",
                "-numa", "node,memdev=mem"));
        if (config.cpu() != null) q.addAll(List.of("-cpu", config.cpu()));
        else if (config.accel().equals("kvm")) q.addAll(List.of("-cpu", "host"));
        qemu = GuestProcess.start("qemu", q, workDir.resolve("qemu.log"), true);
        return readConsole();
    }

    private LabResult readConsole() {
        List<String> output = new ArrayList<>();
        List<String> leaks = new ArrayList<>();
        List<String> warnings = new ArrayList<>(moduleWarnings);
        Deque<String> lastLines = new ArrayDeque<>();
        Duration boot = null;
        int exit = -1;
        String fail = null;
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kernel-lab-watchdog");
            t.setDaemon(true);
            return t;
        });
        long bootMs = Math.min(config.bootTimeout().toMillis(), config.timeout().toMillis());
        var bootCheck = watchdog.schedule(() -> kill("the guest did not reach the command within " + seconds(bootMs)), bootMs, TimeUnit.MILLISECONDS);
        watchdog.schedule(() -> kill("the guest did not finish within " + seconds(config.timeout().toMillis())),
                config.timeout().toMillis(), TimeUnit.MILLISECONDS);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(qemu.process().getInputStream(), StandardCharsets.UTF_8))) {
            boolean running = false;
            String line;
            while ((line = r.readLine()) != null) {
                line = stripCr(line);
                int at = line.indexOf(marker);
                if (at < 0) {
                    remember(lastLines, line);
                    if (running) {
                        output.add(line);
                        config.output().accept(line);
                    } else {
                        config.console().accept(line);
                    }
                    continue;
                }
                String before = line.substring(0, at);
                if (!before.isBlank() && running) {
                    output.add(before);
                    config.output().accept(before);
                }
                String[] f = line.substring(at + marker.length()).trim().split(" ", 2);
                String rest = f.length > 1 ? f[1] : "";
                switch (f[0]) {
                    case "READY" -> {
                        boot = elapsed();
                        bootCheck.cancel(false);
                        running = true;
                        config.console().accept("kernel lab: guest up in " + millis(boot) + " (guest uptime " + rest + " s), running " + command.argv().getLast());
                    }
                    case "WARN" -> {
                        warnings.add(rest);
                        config.console().accept("kernel lab: " + rest);
                    }
                    case "FAIL" -> fail = rest;
                    case "EXIT" -> {
                        running = false;
                        exit = Integer.parseInt(rest.trim());
                    }
                    case "LEAK" -> leaks.add(rest);
                    default -> { }
                }
            }
        } catch (IOException e) {
            if (killedBecause == null) throw new KernelLabException("lost the guest console: " + e, e);
        } finally {
            watchdog.shutdownNow();
        }
        qemu.awaitExit(Duration.ofSeconds(15));
        Duration total = elapsed();
        String why = killedBecause;
        String message;
        if (why != null) {
            message = "kernel lab: " + why + " (kernel " + config.kernel().release() + "); killed qemu (pid " + qemu.pid()
                    + ") and virtiofsd (pid " + virtiofsd.pid() + ")" + lastOutput(lastLines);
            return new LabResult(-1, true, message, output, leaks, boot == null ? total : boot, total, warnings);
        }
        if (fail != null) {
            throw new KernelLabException("guest setup failed: " + fail + lastOutput(lastLines));
        }
        if (boot == null) {
            throw new KernelLabException("qemu exited (status " + qemu.exitStatus() + ") before the guest came up: "
                    + qemu.logTail(10) + lastOutput(lastLines));
        }
        if (exit < 0) {
            message = "kernel lab: the guest stopped while the command was running (kernel panic or power off)" + lastOutput(lastLines);
        } else {
            message = "kernel lab: command exited " + exit + " after " + millis(total.minus(boot)) + " in kernel "
                    + config.kernel().release() + " (boot " + millis(boot) + ")"
                    + (leaks.isEmpty() ? "" : "; left behind in the guest: " + String.join("; ", leaks));
        }
        return new LabResult(exit, false, message, output, leaks, boot, total, warnings);
    }

    private void kill(String why) {
        killedBecause = why;
        if (qemu != null) qemu.kill();
    }

    private void killAll() {
        if (qemu != null) qemu.kill();
        if (virtiofsd != null) virtiofsd.kill();
    }

    private void waitForSocket(Path sock) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(sock)) {
            if (!virtiofsd.process().isAlive()) {
                throw new KernelLabException("virtiofsd exited (status " + virtiofsd.exitStatus() + "): " + virtiofsd.logTail(10)
                        + " (it needs root; apt-get install qemu-system-x86 for /usr/lib/qemu/virtiofsd)");
            }
            if (System.nanoTime() > deadline) throw new KernelLabException("virtiofsd made no socket at " + sock + " within 10 s");
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KernelLabException("interrupted while starting virtiofsd");
            }
        }
    }

    private void deleteWorkDir() {
        if (workDir == null) return;
        try (Stream<Path> s = Files.walk(workDir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a temp directory
                }
            });
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // best effort (the hook and this thread's finally may both be at it)
        }
    }

    private Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private static void remember(Deque<String> last, String line) {
        last.addLast(line);
        if (last.size() > 8) last.removeFirst();
    }

    private static String lastOutput(Deque<String> last) {
        return last.isEmpty() ? "" : "; last console lines:\n  " + String.join("\n  ", last);
    }

    static String stripCr(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '\r') end--;
        return end == s.length() ? s : s.substring(0, end);
    }

    private static String seconds(long ms) {
        return (ms / 1000) + " s";
    }

    private static String millis(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
}
