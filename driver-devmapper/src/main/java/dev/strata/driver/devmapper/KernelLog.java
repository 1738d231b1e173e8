package dev.strata.driver.devmapper;

import dev.strata.nativeio.Native;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Recent kernel log lines, read with klogctl(SYSLOG_ACTION_READ_ALL). A failed dm ioctl or mount says only
 * EINVAL; the reason ("thin-pool: Data device (dev/loop3) discard unsupported") is in the kernel log, so errors
 * quote the lines of the last few seconds.
 */
final class KernelLog {
    private static final int SYSLOG_ACTION_READ_ALL = 3;
    private static final int SIZE = 1 << 17;

    private static final class H {
        static final MethodHandle KLOGCTL = Native.errnoCall("klogctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private KernelLog() {
    }

    /** Lines logged in the last {@code seconds} that contain {@code filter} (null: all), oldest first, at most {@code max}. */
    static List<String> recent(double seconds, String filter, int max) {
        List<String> out = new ArrayList<>();
        String all;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(SIZE);
            int n = (int) H.KLOGCTL.invokeExact(Native.captureState(a), SYSLOG_ACTION_READ_ALL, buf, SIZE);
            if (n <= 0) return out;
            byte[] b = new byte[n];
            MemorySegment.copy(buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b, 0, n);
            all = new String(b, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return out;
        }
        double now = uptime();
        for (String line : all.split("\n")) {
            // "<3>[  123.456789] device-mapper: ..."
            int open = line.indexOf('['), close = line.indexOf(']');
            if (open < 0 || close < open) continue;
            double at;
            try {
                at = Double.parseDouble(line.substring(open + 1, close).trim());
            } catch (NumberFormatException e) {
                continue;
            }
            String text = line.substring(close + 1).trim();
            if (now - at <= seconds && (filter == null || text.contains(filter))) out.add(text);
        }
        return out.size() > max ? out.subList(out.size() - max, out.size()) : out;
    }

    /** What device-mapper logged in the last 2 seconds, joined, or null. */
    static String dmTail() {
        List<String> l = recent(2, "device-mapper", 4);
        return l.isEmpty() ? null : "kernel: " + String.join("; ", l);
    }

    /** The last lines of the kernel log (moby's "dmesg" in mount errors). */
    static String tail(int lines) {
        List<String> l = recent(5, null, lines);
        return String.join("; ", l);
    }

    private static double uptime() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.MAX_VALUE;
        }
    }
}
