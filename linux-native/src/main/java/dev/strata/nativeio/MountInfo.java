package dev.strata.nativeio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One line of {@code /proc/self/mountinfo}. */
public record MountInfo(int mountId, int parentId, int major, int minor, String root, String mountPoint,
                        String options, String fsType, String source, String superOptions) {

    /** Every mount of this process's mount namespace, in mount order. */
    public static List<MountInfo> all() {
        try {
            List<MountInfo> out = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) out.add(parse(line));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Mounts at or below {@code dir}, deepest first (the order to unmount them in). */
    public static List<MountInfo> under(Path dir) {
        String d = dir.toAbsolutePath().normalize().toString();
        String prefix = d.endsWith("/") ? d : d + "/";
        List<MountInfo> out = new ArrayList<>();
        for (MountInfo m : all()) {
            if (m.mountPoint.equals(d) || m.mountPoint.startsWith(prefix)) out.add(m);
        }
        out.sort((a, b) -> Integer.compare(b.mountPoint.length(), a.mountPoint.length()));
        return out;
    }

    /** Whether something is mounted exactly at {@code path}. */
    public static boolean isMountPoint(Path path) {
        String p = path.toAbsolutePath().normalize().toString();
        for (MountInfo m : all()) if (m.mountPoint.equals(p)) return true;
        return false;
    }

    static MountInfo parse(String line) {
        String[] f = line.split(" ");
        int sep = 6;
        while (!f[sep].equals("-")) sep++;
        String[] dev = f[2].split(":");
        return new MountInfo(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(dev[0]),
                Integer.parseInt(dev[1]), unescape(f[3]), unescape(f[4]), f[5], f[sep + 1], unescape(f[sep + 2]),
                sep + 3 < f.length ? f[sep + 3] : "");
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException ignored) {
                    // not an escape
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}
