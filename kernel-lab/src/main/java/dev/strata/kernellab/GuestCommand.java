package dev.strata.kernellab;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What to run inside the guest, after chroot into the shared host tree: the argument vector, its working directory
 * (a host path, the same inside) and extra environment. The lab adds {@code TMPDIR} and {@code STRATA_LAB_SCRATCH}
 * pointing at the guest's own scratch space.
 */
public record GuestCommand(List<String> argv, Path workDir, Map<String, String> env) {
    public GuestCommand {
        if (argv == null || argv.isEmpty()) throw new IllegalArgumentException("guest command is empty");
        argv = List.copyOf(argv);
        workDir = workDir == null ? Path.of("").toAbsolutePath() : workDir.toAbsolutePath();
        env = env == null ? Map.of() : Map.copyOf(env);
    }

    public static GuestCommand of(String... argv) {
        return new GuestCommand(List.of(argv), null, Map.of());
    }

    /**
     * This JVM's java, class path and native-access grant, running {@code mainClass} in the guest. The scratch
     * directory becomes {@code java.io.tmpdir} (set by the lab through {@value KernelLab#SCRATCH_PROPERTY_PLACEHOLDER}).
     */
    public static GuestCommand java(String mainClass, List<String> jvmOptions, List<String> args) {
        return java(System.getProperty("java.class.path"), mainClass, jvmOptions, args);
    }

    public static GuestCommand java(String classPath, String mainClass, List<String> jvmOptions, List<String> args) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.add("--enable-native-access=ALL-UNNAMED");
        argv.add("-XX:-UsePerfData");               // no hsperfdata file written through virtiofs
        argv.add("-Djava.io.tmpdir=" + KernelLab.SCRATCH_PROPERTY_PLACEHOLDER);
        argv.addAll(jvmOptions);
        argv.add("-cp");
        argv.add(absoluteClassPath(classPath));
        argv.add(mainClass);
        argv.addAll(args);
        return new GuestCommand(argv, null, Map.of());
    }

    /** Relative class path entries would resolve against the guest's working directory; make them absolute. */
    static String absoluteClassPath(String cp) {
        List<String> out = new ArrayList<>();
        for (String e : cp.split(File.pathSeparator)) {
            if (!e.isEmpty()) out.add(Path.of(e).toAbsolutePath().toString());
        }
        return String.join(File.pathSeparator, out);
    }

    public GuestCommand withEnv(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(env);
        m.put(key, value);
        return new GuestCommand(argv, workDir, m);
    }

    public GuestCommand inDirectory(Path dir) {
        return new GuestCommand(argv, dir, env);
    }
}
