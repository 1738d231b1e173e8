package dev.strata.kernellab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Which qemu accelerator a run uses: KVM when it boots the lab's kernel here, else TCG. Under KVM the lab runs
 * several times faster; but {@code /dev/kvm} can exist where KVM cannot run this kernel (nested virtualization that
 * only runs paravirtualized guests: qemu aborts on an MSR with {@code -cpu host}, or the boot crawls), so a probe
 * boots the kernel with a two-line init under {@code -accel kvm -cpu host} and gives it {@link #PROBE_LIMIT}.
 *
 * <p>Decided once per JVM and kernel, and once per CI run when {@value #DECISION_ENV} names a file (scripts/test
 * makes one, empty): the first JVM writes its decision there and every later one reads it. The JVM that probed
 * says what it decided in one line on stderr. {@value #FORCE_ENV} ({@code tcg} or {@code kvm}) skips the probe.
 */
final class Accelerator {
    static final String FORCE_ENV = "STRATA_LAB_ACCEL";
    static final String DECISION_ENV = "STRATA_LAB_ACCEL_FILE";
    static final Duration PROBE_LIMIT = Duration.ofSeconds(15);
    private static final String BOOTED = "STRATA-KVM-PROBE-BOOTED";
    private static final Map<Path, Choice> DECIDED = new ConcurrentHashMap<>();

    /** @param note why not KVM, or null when KVM */
    record Choice(String accel, String note) {
        String line() {
            return note == null ? accel : accel + " (" + note + ")";
        }

        static Choice parse(String line) {
            String s = line.strip();
            if (s.equals("kvm")) return new Choice("kvm", null);
            if (s.startsWith("tcg")) {
                String note = s.substring(3).strip();
                if (note.startsWith("(") && note.endsWith(")")) note = note.substring(1, note.length() - 1);
                return new Choice("tcg", note.isEmpty() ? "decided earlier in this run" : note);
            }
            return null;
        }
    }

    private Accelerator() {
    }

    static Choice choose(KernelImage kernel, Path qemu, Path busybox, Path workRoot) {
        String forced = System.getenv(FORCE_ENV);
        if (forced != null && !forced.isBlank()) {
            if (forced.equals("kvm")) return new Choice("kvm", null);
            if (forced.equals("tcg")) return new Choice("tcg", FORCE_ENV + "=tcg");
            throw new KernelLabException(FORCE_ENV + " must be tcg or kvm, not " + forced);
        }
        return DECIDED.computeIfAbsent(kernel.path(), k -> {
            Path file = decisionFile();
            Choice earlier = file == null ? null : read(file);
            if (earlier != null) return earlier;
            Choice c = probe(kernel, qemu, busybox, workRoot, Path.of("/dev/kvm"), PROBE_LIMIT);
            if (file != null) write(file, c);
            System.err.println(c.note() == null ? "kernel lab: KVM boots " + kernel.release() + " here: the guests run under KVM"
                    : "kernel lab: TCG, not KVM: " + c.note());
            return c;
        });
    }

    /** Boots {@code kernel} under KVM with an init that prints one line and powers off; TCG unless that line comes in time. */
    static Choice probe(KernelImage kernel, Path qemu, Path busybox, Path workRoot, Path kvm, Duration limit) {
        if (!Files.exists(kvm)) return new Choice("tcg", "no " + kvm);
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) return new Choice("tcg", kvm + " is not read-writable for this user");
        Path dir = null;
        GuestProcess q = null;
        try {
            Files.createDirectories(workRoot);
            dir = Files.createTempDirectory(workRoot, "strata-lab-kvm-probe-");
            Path initrd = dir.resolve("probe.cpio");
            Initramfs.write(initrd, busybox, List.of(), "#!/bin/busybox sh\n/bin/busybox echo " + BOOTED + "\n/bin/busybox poweroff -f\n");
            q = GuestProcess.start("qemu", List.of(qemu.toString(), "-accel", "kvm", "-cpu", "host", "-nodefaults", "-no-user-config",
                    "-display", "none", "-serial", "stdio", "-no-reboot", "-m", "256M", "-smp", "1",
                    "-kernel", kernel.path().toString(), "-initrd", initrd.toString(), "-append", "console=ttyS0 quiet panic=-1"),
                    dir.resolve("qemu.log"), true);
            Process p = q.process();
            CompletableFuture<Boolean> booted = CompletableFuture.supplyAsync(() -> sawLine(p), r -> Thread.ofVirtual().start(r));
            boolean ok;
            try {
                ok = booted.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                return new Choice("tcg", "KVM did not boot " + kernel.release() + " within " + limit.toSeconds() + " s");
            }
            if (ok) return new Choice("kvm", null);
            q.awaitExit(Duration.ofSeconds(5));
            return new Choice("tcg", "qemu -accel kvm -cpu host exited " + q.exitStatus() + " before the kernel booted: " + q.logTail(2));
        } catch (IOException | KernelLabException e) {
            return new Choice("tcg", "the KVM probe could not run: " + e.getMessage());
        } catch (java.util.concurrent.ExecutionException e) {
            return new Choice("tcg", "the KVM probe could not read qemu's console: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Choice("tcg", "the KVM probe was interrupted");
        } finally {
            if (q != null) q.kill();
            if (dir != null) deleteTree(dir);
        }
    }

    private static boolean sawLine(Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) {
                if (l.contains(BOOTED)) return true;
            }
            return false;
        } catch (IOException e) {
            return false; // killed at the limit
        }
    }

    private static Path decisionFile() {
        String f = System.getenv(DECISION_ENV);
        return f == null || f.isBlank() ? null : Path.of(f);
    }

    private static Choice read(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return lines.isEmpty() ? null : Choice.parse(lines.getFirst());
        } catch (IOException e) {
            return null;
        }
    }

    private static void write(Path file, Choice c) {
        try {
            Files.writeString(file, c.line() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            // the next JVM probes again
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}
