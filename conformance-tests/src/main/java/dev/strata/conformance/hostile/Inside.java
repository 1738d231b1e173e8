package dev.strata.conformance.hostile;

import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an applied layer must hold, path by path (no symlink followed), in a small notation: a kind, then
 * attributes: {@code "file content=abc"}, {@code "file mode=640 nlink=2 content=x"}, {@code "dir mode=711
 * mtime=1577836800"} (seconds), {@code "symlink target=../x"}, {@code "fifo"}, {@code "absent"}. {@code content=}
 * and {@code target=} take the rest of the line.
 */
public final class Inside {
    private Inside() {
    }

    static List<String> problems(Path root, Map<String, String> expected) {
        List<String> out = new ArrayList<>();
        for (var e : new TreeMap<>(expected).entrySet()) {
            String p = problem(root, e.getKey(), e.getValue());
            if (p != null) out.add(e.getKey() + ": " + p);
        }
        return out;
    }

    private static String problem(Path root, String rel, String spec) {
        Path p = rel.isEmpty() ? root : root.resolve(rel);
        Stat st;
        try {
            st = PosixFiles.statx(null, p.toString(), PosixFiles.AT_SYMLINK_NOFOLLOW);
        } catch (SyscallException e) {
            return spec.equals("absent") ? null : "missing (" + e.getMessage() + "), expected " + spec;
        }
        if (spec.equals("absent")) return "present, expected absent";
        String kind = spec.split(" ", 2)[0];
        String actualKind = switch (st.type()) {
            case Stat.S_IFDIR -> "dir";
            case Stat.S_IFREG -> "file";
            case Stat.S_IFLNK -> "symlink";
            case Stat.S_IFIFO -> "fifo";
            case Stat.S_IFCHR -> "char";
            case Stat.S_IFBLK -> "block";
            default -> "other";
        };
        if (!kind.equals(actualKind)) return "a " + actualKind + ", expected " + spec;
        String rest = spec.length() > kind.length() ? spec.substring(kind.length() + 1) : "";
        while (!rest.isEmpty()) {
            if (rest.startsWith("content=")) {
                String want = rest.substring(8);
                try {
                    String got = Files.readString(p, StandardCharsets.UTF_8);
                    if (!got.equals(want)) return "content \"" + got + "\", expected \"" + want + "\"";
                } catch (IOException e) {
                    return "unreadable: " + e;
                }
                break;
            }
            if (rest.startsWith("target=")) {
                String got = PosixFiles.readlinkat(null, p.toString());
                if (!got.equals(rest.substring(7))) return "target \"" + got + "\", expected \"" + rest.substring(7) + "\"";
                break;
            }
            String[] kv = rest.split(" ", 2);
            rest = kv.length > 1 ? kv[1] : "";
            String[] a = kv[0].split("=", 2);
            switch (a[0]) {
                case "mode" -> {
                    if (st.permissions() != Integer.parseInt(a[1], 8)) {
                        return "mode " + Integer.toOctalString(st.permissions()) + ", expected " + a[1];
                    }
                }
                case "mtime" -> {
                    if (st.mtimeNanos() != Long.parseLong(a[1]) * 1_000_000_000L) {
                        return "mtime " + st.mtimeNanos() + " ns, expected " + a[1] + " s";
                    }
                }
                case "nlink" -> {
                    if (st.nlink() != Long.parseLong(a[1])) return "nlink " + st.nlink() + ", expected " + a[1];
                }
                default -> throw new IllegalArgumentException("unknown attribute " + a[0] + " in \"" + spec + "\"");
            }
        }
        return null;
    }
}
