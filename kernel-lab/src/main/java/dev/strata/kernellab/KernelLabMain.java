package dev.strata.kernellab;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The lab from a shell (scripts/kernel-lab), for when the strata CLI is not at hand:
 * <pre>
 * KernelLabMain [--kernel VMLINUZ] [--modules DIR] [--module NAME]... [--cpu MODEL] [--timeout SECONDS] [--memory MIB] [--cpus N] [--keep] [--console]
 *               (--tests CLASS|package:NAME ... | --java MAINCLASS ARG ... | -- COMMAND ARG ...)
 * </pre>
 * {@code --tests} and {@code --java} run on this JVM's class path. Without {@code --kernel} the newest
 * {@code /boot/vmlinuz-*-cloud-amd64} is booted. Exits with the guest command's status, 124 when the guest was
 * killed at the timeout, 3 when the command passed but left dm or loop devices behind.
 */
public final class KernelLabMain {
    private KernelLabMain() {
    }

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (KernelLabException | IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        }
    }

    static int run(String[] args) {
        Path kernel = null, modules = null;
        Duration timeout = Duration.ofMinutes(15);
        int memory = 2048, cpus = 2;
        boolean keep = false, console = false;
        GuestCommand command = null;
        List<String> jvm = List.of();
        List<String> extraModules = new ArrayList<>();
        String cpu = null;
        for (int i = 0; i < args.length && command == null; i++) {
            String a = args[i];
            switch (a) {
                case "--kernel" -> kernel = Path.of(value(args, ++i, a));
                case "--modules" -> modules = Path.of(value(args, ++i, a));
                case "--timeout" -> timeout = Duration.ofSeconds(Long.parseLong(value(args, ++i, a)));
                case "--memory" -> memory = Integer.parseInt(value(args, ++i, a));
                case "--cpus" -> cpus = Integer.parseInt(value(args, ++i, a));
                case "--jvm" -> jvm = Arrays.asList(value(args, ++i, a).split("\\s+"));
                case "--module" -> extraModules.add(value(args, ++i, a));
                case "--cpu" -> cpu = value(args, ++i, a);
                case "--keep" -> keep = true;
                case "--console" -> console = true;
                case "--tests" -> command = GuestCommand.java(GuestTests.class.getName(), jvm, rest(args, i + 1));
                case "--java" -> command = GuestCommand.java(value(args, i + 1, a), jvm, rest(args, i + 2));
                case "--" -> command = new GuestCommand(rest(args, i + 1), null, null);
                default -> throw new IllegalArgumentException("unknown argument " + a + " (see KernelLabMain's usage)");
            }
        }
        if (command == null) throw new IllegalArgumentException("nothing to run: give --tests, --java or -- COMMAND");
        if (kernel == null) kernel = defaultKernel();
        KernelLab.Builder b = KernelLab.forKernel(kernel).timeout(timeout).memoryMiB(memory).cpus(cpus).keepWorkDir(keep)
                .output(System.out::println);
        if (console) b.console(l -> System.err.println("[guest] " + l));
        if (modules != null) b.modules(modules);
        extraModules.forEach(b::extraModule);
        if (cpu != null) b.cpu(cpu);
        LabResult r = b.build().run(command);
        System.out.flush();
        System.err.println(r.message());
        if (r.timedOut()) return 124;
        if (r.exitCode() == 0 && !r.leaks().isEmpty()) return 3;
        return r.exitCode();
    }

    /** The newest Debian cloud kernel under /boot. */
    public static Path defaultKernel() {
        List<Path> k = KernelLab.installedKernels("vmlinuz-*-cloud-amd64");
        if (k.isEmpty()) {
            throw new KernelLabException("no kernel given and none at /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64, or pass --kernel)");
        }
        return k.getLast();
    }

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) throw new IllegalArgumentException(opt + " needs a value");
        return args[i];
    }

    private static List<String> rest(String[] args, int from) {
        return new ArrayList<>(Arrays.asList(args).subList(Math.min(from, args.length), args.length));
    }
}
