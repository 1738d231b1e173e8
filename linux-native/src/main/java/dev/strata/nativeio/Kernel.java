package dev.strata.nativeio;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Facts about the running kernel and process that drivers probe. */
public final class Kernel {
    private static final class H {
        static final MethodHandle GETEUID = Native.plainCall("geteuid", FunctionDescriptor.of(JAVA_INT));
        static final MethodHandle ISATTY = Native.plainCall("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** Whether file descriptor {@code fd} (2 for stderr) is a terminal. */
    public static boolean isatty(int fd) {
        try {
            return (int) H.ISATTY.invokeExact(fd) == 1;
        } catch (Throwable t) {
            return false;
        }
    }

    private Kernel() {
    }

    /** The effective uid of this process. */
    public static int euid() {
        try {
            return (int) H.GETEUID.invokeExact();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static boolean isRoot() {
        return euid() == 0;
    }

    /** The kernel release, e.g. {@code 6.18.44}. */
    public static String release() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Whether the kernel release is at least major.minor. */
    public static boolean atLeast(int major, int minor) {
        String[] p = release().split("[.-]");
        try {
            int ma = Integer.parseInt(p[0]);
            int mi = Integer.parseInt(p[1]);
            return ma > major || (ma == major && mi >= minor);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Whether {@code /proc/filesystems} lists the filesystem. */
    public static boolean hasFilesystem(String name) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/filesystems"));
            for (String l : lines) {
                String[] f = l.trim().split("\\s+");
                if (f[f.length - 1].equals(name)) return true;
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A build option of the running kernel from {@code /proc/config.gz}: "y", "m", a value, "n" when it is listed
     * as not set, or null when the kernel does not publish its config.
     */
    public static String config(String option) {
        Path gz = Path.of("/proc/config.gz");
        if (!Files.exists(gz)) return null;
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(
                new java.util.zip.GZIPInputStream(Files.newInputStream(gz)), java.nio.charset.StandardCharsets.US_ASCII))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith(option + "=")) return line.substring(option.length() + 1);
                if (line.equals("# " + option + " is not set")) return "n";
            }
            return "n";
        } catch (IOException e) {
            return null;
        }
    }

    /** Whether this process runs in a user namespace other than the initial one. */
    public static boolean inUserNamespace() {
        try {
            String map = Files.readString(Path.of("/proc/self/uid_map")).trim();
            String[] f = map.split("\\s+");
            return !(f.length == 3 && f[0].equals("0") && f[1].equals("0") && f[2].equals("4294967295"));
        } catch (IOException e) {
            return false;
        }
    }
}
