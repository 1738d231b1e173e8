package dev.strata.kernellab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Runs a command under another kernel: boots {@code kernel} in qemu (KVM where it boots the kernel, else TCG), shares this machine's root
 * tree with the guest over virtiofs, loads the modules the drivers need from the kernel's own module tree, gives
 * the guest a scratch tmpfs of its own (loop files and pools must not live on virtiofs), chroots into the host
 * tree and runs the command there with the host's JDK. Output streams back line by line while it runs.
 *
 * <pre>{@code
 * LabResult r = KernelLab.forKernel(Path.of("/boot/vmlinuz-6.1.0-56-cloud-amd64"))
 *         .timeout(Duration.ofMinutes(10))
 *         .output(System.out::println)
 *         .build()
 *         .run(GuestCommand.java("dev.strata.conformance.ConformanceRunner", List.of(), List.of("devmapper")));
 * }</pre>
 *
 * <p>{@link #run} blocks its calling thread for the whole run, and must: qemu and virtiofsd are started with a
 * parent-death signal tied to that thread, so neither outlives a JVM killed with SIGKILL.
 */
public final class KernelLab {
    /** In a {@link GuestCommand}'s arguments, replaced by the guest's scratch directory. */
    public static final String SCRATCH_PROPERTY_PLACEHOLDER = "@STRATA_LAB_SCRATCH@";

    private final Config config;

    private KernelLab(Config config) {
        this.config = config;
    }

    /**
     * Everything a run needs. Build it with {@link KernelLab#forKernel}.
     *
     * @param kernel        the image to boot
     * @param moduleTree    its module tree; default {@code /lib/modules/<release>}
     * @param extraModules  modules to load besides {@link GuestModules#DEFAULT_OPTIONAL} (missing ones are skipped),
     *                      in the background while the command starts: a mount of a filesystem among them waits for
     *                      them through the kernel's on-demand loading, but /proc/filesystems may not list them yet
     * @param timeout       for the whole run, boot included; the guest is killed when it passes
     * @param bootTimeout   for the guest to reach the command
     * @param memoryMiB     guest memory; the scratch tmpfs may use 80% of it
     * @param cpus          guest CPUs
     * @param accel         qemu accelerator: {@code tcg} (works everywhere), or {@code kvm}
     * @param accelNote     why not KVM, when {@code accel} is tcg by the probe's decision; else null
     * @param cpu           qemu CPU model ({@code -cpu}), or null for qemu's default (qemu64 under TCG)
     * @param output        receives the command's output lines as they arrive
     * @param console       receives the guest's boot and init lines (kernel messages before the command)
     * @param workRoot      where the per-run directory (virtiofs socket, initramfs, scratch mount point) is made
     * @param keepWorkDir   keep that directory after the run, for debugging
     */
    public record Config(KernelImage kernel, Path moduleTree, List<String> extraModules, Duration timeout,
                        Duration bootTimeout, int memoryMiB, int cpus, String accel, String accelNote, String cpu, Path qemu,
                        Path virtiofsd, Path busybox, Consumer<String> output, Consumer<String> console, Path workRoot,
                        boolean keepWorkDir) {
        public Config {
            Objects.requireNonNull(kernel, "kernel");
            if (memoryMiB < 256) throw new IllegalArgumentException("guest memory " + memoryMiB + " MiB is below 256 MiB");
            if (cpus < 1) throw new IllegalArgumentException("guest cpus must be at least 1");
            if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive");
            if (!accel.equals("tcg") && !accel.equals("kvm")) throw new IllegalArgumentException("accel must be tcg or kvm, not " + accel);
            extraModules = List.copyOf(extraModules);
        }

        public Path effectiveModuleTree() {
            return moduleTree != null ? moduleTree : Path.of("/lib/modules", kernel.release());
        }
    }

    public static Builder forKernel(Path kernel) {
        return new Builder(KernelImage.of(kernel));
    }

    public Config config() {
        return config;
    }

    /** Boots the guest, runs {@code command} in it, powers it off. Never leaves qemu or virtiofsd running. */
    public LabResult run(GuestCommand command) {
        return new LabRun(config, command).run();
    }

    /** The kernels of {@code linux-image-cloud-amd64} (or any) installed under /boot, newest last. */
    public static List<Path> installedKernels(String nameGlob) {
        List<Path> out = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(Path.of("/boot"), nameGlob)) {
            ds.forEach(out::add);
        } catch (java.io.IOException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }

    public static final class Builder {
        private final KernelImage kernel;
        private Path moduleTree;
        private final List<String> extraModules = new ArrayList<>();
        private Duration timeout = Duration.ofMinutes(10);
        private Duration bootTimeout = Duration.ofSeconds(90);
        private int memoryMiB = 2048;
        private int cpus = 2;
        private String accel;
        private String cpu;
        private Path qemu = Path.of("qemu-system-x86_64");
        private Path virtiofsd = Path.of("/usr/lib/qemu/virtiofsd");
        private Path busybox = Path.of("/bin/busybox");
        private Consumer<String> output = System.out::println;
        private Consumer<String> console = line -> { };
        private Path workRoot = Path.of(System.getProperty("java.io.tmpdir"));
        private boolean keepWorkDir;

        private Builder(KernelImage kernel) {
            this.kernel = kernel;
        }

        /** The kernel's module tree ({@code --modules DIR}); default {@code /lib/modules/<release>}. */
        public Builder modules(Path dir) {
            this.moduleTree = dir;
            return this;
        }

        public Builder extraModule(String name) {
            extraModules.add(name);
            return this;
        }

        public Builder timeout(Duration d) {
            this.timeout = d;
            return this;
        }

        public Builder bootTimeout(Duration d) {
            this.bootTimeout = d;
            return this;
        }

        public Builder memoryMiB(int m) {
            this.memoryMiB = m;
            return this;
        }

        public Builder cpus(int n) {
            this.cpus = n;
            return this;
        }

        /** {@code tcg} or {@code kvm}; without it, KVM when a probe boots the kernel under it ({@link Accelerator}). */
        public Builder accel(String a) {
            this.accel = a;
            return this;
        }

        /** qemu's -cpu model, e.g. {@code max} (under TCG: SSE4.2, AVX2 as qemu 7.2 emulates them). */
        public Builder cpu(String model) {
            this.cpu = model;
            return this;
        }

        public Builder qemu(Path p) {
            this.qemu = p;
            return this;
        }

        public Builder virtiofsd(Path p) {
            this.virtiofsd = p;
            return this;
        }

        public Builder busybox(Path p) {
            this.busybox = p;
            return this;
        }

        public Builder output(Consumer<String> c) {
            this.output = c;
            return this;
        }

        public Builder console(Consumer<String> c) {
            this.console = c;
            return this;
        }

        public Builder workRoot(Path p) {
            this.workRoot = p;
            return this;
        }

        public Builder keepWorkDir(boolean k) {
            this.keepWorkDir = k;
            return this;
        }

        public KernelLab build() {
            String a = accel, note = null;
            if (a == null) {
                Accelerator.Choice c = Accelerator.choose(kernel, qemu, busybox, workRoot);
                a = c.accel();
                note = c.note();
            }
            return new KernelLab(new Config(kernel, moduleTree, extraModules, timeout, bootTimeout, memoryMiB, cpus,
                    a, note, cpu, qemu, virtiofsd, busybox, output, console, workRoot, keepWorkDir));
        }
    }
}
