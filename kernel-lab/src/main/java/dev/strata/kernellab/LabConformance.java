package dev.strata.kernellab;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code strata conformance --kernel}: the conformance runner ({@value #RUNNER}, on this JVM's class path) run
 * inside another kernel. Its output, the matrix included, streams back as it is printed. Exit status: the
 * runner's (0 nothing failed, 1 something did, 2 usage), 1 when the guest hung or left devices behind, 2 when the
 * lab cannot start (no kernel, no qemu).
 */
public final class LabConformance {
    public static final String RUNNER = "dev.strata.conformance.ConformanceRunner";
    /** C1 only and the serial collector: under TCG, compiling costs more than it gives back in a short run. */
    static final List<String> GUEST_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    /** The training run: discovery of the whole suite and one vfs case load nearly every class a guest run loads. */
    private static final List<String> TRAINING = List.of("-s", "vfs", "--only", "CreateEmpty", "--scratch", GuestJvmCache.SCRATCH);

    private LabConformance() {
    }

    /** {@link #GUEST_JVM}, plus an AOT cache trained on a one-case vfs run here when the class path allows one. */
    private static List<String> guestJvm(PrintWriter err) {
        List<String> jvm = new ArrayList<>(GUEST_JVM);
        String cp = GuestCommand.absoluteClassPath(System.getProperty("java.class.path"));
        GuestJvmCache.standard().options(cp, GUEST_JVM, RUNNER, TRAINING, note -> {
            err.println("strata conformance: " + note);
            err.flush();
        }).ifPresent(jvm::addAll);
        return jvm;
    }

    /**
     * Whether the runner will run btrfs's suite (named, or every driver), which makes its own btrfs on a loop file:
     * then the guest needs the module, which it loads in the background while the suite starts.
     */
    static boolean runsBtrfs(List<String> runnerArgs) {
        boolean named = false;
        for (int i = 0; i < runnerArgs.size(); i++) {
            String a = runnerArgs.get(i);
            if ((a.equals("-s") || a.equals("--storage-driver")) && i + 1 < runnerArgs.size()) {
                named = true;
                if (List.of(runnerArgs.get(i + 1).split(",")).contains("btrfs")) return true;
            }
        }
        return !named;
    }

    /**
     * @param modules    the kernel's module tree, or null for /lib/modules/RELEASE
     * @param runnerArgs the runner's own arguments ({@code -s NAME}, {@code --storage-opt KEY=VALUE}, ...)
     */
    public static int run(Path kernel, Path modules, Duration timeout, List<String> runnerArgs, PrintWriter out, PrintWriter err) {
        try {
            KernelLab.Builder b = KernelLab.forKernel(kernel).extraModule("xfs").timeout(timeout)
                    .output(line -> {
                        out.println(line);
                        out.flush();
                    });
            if (modules != null) b.modules(modules);
            if (runsBtrfs(runnerArgs)) b.extraModule("btrfs");
            KernelLab lab = b.build();
            err.println("strata conformance: booting " + lab.config().kernel().path() + " (" + lab.config().kernel().release()
                    + ") in qemu/" + lab.config().accel() + ", timeout " + timeout.toSeconds() + " s");
            err.flush();
            LabResult r = lab.run(GuestCommand.java(RUNNER, guestJvm(err), runnerArgs));
            r.warnings().forEach(w -> err.println("strata conformance: guest: " + w));
            err.println(r.message().replaceFirst("^kernel lab: ", "strata conformance: "));
            err.flush();
            if (r.timedOut() || r.exitCode() < 0) return 1;
            if (r.exitCode() == 0 && !r.leaks().isEmpty()) return 1;
            return r.exitCode();
        } catch (KernelLabException e) {
            err.println("strata conformance: " + e.getMessage());
            err.flush();
            return 2;
        }
    }
}
