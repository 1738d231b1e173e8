package dev.strata.conformance;

import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Xattrs;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A directory tree described path by path, for comparing a layer with what it should hold (containerd's
 * {@code fstest.CheckDirectoryEqual}): type, permission bits incl. setuid/setgid/sticky, uid/gid, content digest,
 * symlink target, device number, xattrs, and which paths are hard links of each other. Directory sizes and
 * times are left out (they differ between filesystems and drivers for no fault). A top-level {@code lost+found}
 * is ignored, as moby's graphtest does, and so are the xattrs a driver keeps for itself (overlay's, SELinux's).
 */
final class TreeDescription {
    private TreeDescription() {
    }

    /** @param fileTimes also compare the mtime of regular files and symlinks (what a tar round trip keeps) */
    static Map<String, String> of(Path root, boolean fileTimes) {
        Map<String, String> out = new TreeMap<>();
        Map<String, String> firstPathOfInode = new TreeMap<>();
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(paths::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        paths.sort(null);
        for (Path p : paths) {
            if (p.equals(root)) continue;
            String rel = "/" + root.relativize(p);
            if (rel.equals("/lost+found")) continue;
            if (rel.startsWith("/lost+found/")) continue;
            Stat st = PosixFiles.lstat(p);
            StringBuilder d = new StringBuilder();
            d.append(typeName(st)).append(' ').append(String.format("%04o", st.permissions()))
                    .append(' ').append(st.uid()).append(':').append(st.gid());
            if (st.isRegular()) {
                d.append(" size=").append(st.size()).append(" sha256=").append(digest(p));
                if (st.nlink() > 1) {
                    String first = firstPathOfInode.putIfAbsent(st.dev() + ":" + st.ino(), rel);
                    if (first != null) d.append(" hardlink-of=").append(first);
                }
            } else if (st.isSymlink()) {
                d.append(" -> ").append(PosixFiles.readlinkat(null, p.toString()));
            } else if (st.type() == Stat.S_IFCHR || st.type() == Stat.S_IFBLK) {
                d.append(" dev=").append(st.rdevMajor()).append(',').append(st.rdevMinor());
            }
            if (fileTimes && (st.isRegular() || st.isSymlink())) d.append(" mtime=").append(st.mtimeNanos());
            d.append(xattrs(p));
            out.put(rel, d.toString());
        }
        return out;
    }

    /** Up to {@code max} lines saying how {@code actual} differs from {@code expected}; empty when equal. */
    static List<String> differences(Map<String, String> expected, Map<String, String> actual, int max) {
        List<String> out = new ArrayList<>();
        TreeMap<String, Boolean> all = new TreeMap<>();
        expected.keySet().forEach(k -> all.put(k, true));
        actual.keySet().forEach(k -> all.put(k, true));
        int total = 0;
        for (String path : all.keySet()) {
            String e = expected.get(path);
            String a = actual.get(path);
            if (e != null && e.equals(a)) continue;
            total++;
            if (out.size() >= max) continue;
            if (e == null) out.add("unexpected " + path + " (" + a + ")");
            else if (a == null) out.add("missing " + path + " (want " + e + ")");
            else out.add(path + ": want " + e + ", got " + a);
        }
        if (total > out.size()) out.add("... and " + (total - out.size()) + " more differences");
        return out;
    }

    static String typeName(Stat st) {
        return typeName(st.type());
    }

    static String typeName(int type) {
        return switch (type) {
            case Stat.S_IFDIR -> "dir";
            case Stat.S_IFREG -> "file";
            case Stat.S_IFLNK -> "symlink";
            case Stat.S_IFCHR -> "chardev";
            case Stat.S_IFBLK -> "blockdev";
            case Stat.S_IFIFO -> "fifo";
            case Stat.S_IFSOCK -> "socket";
            default -> "type-" + Integer.toOctalString(type);
        };
    }

    /**
     * The same descriptions without the xattrs whose names start with {@code prefix}: for a target filesystem that
     * does not take that namespace (tmpfs has no {@code user.*} before Linux 6.6).
     */
    static Map<String, String> withoutXattrs(Map<String, String> tree, String prefix) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        tree.forEach((path, d) -> {
            int i = d.indexOf(" xattrs={");
            if (i < 0) {
                out.put(path, d);
                return;
            }
            int end = d.indexOf('}', i);
            StringBuilder kept = new StringBuilder();
            for (String x : d.substring(i + 9, end).split(";")) {
                if (!x.isEmpty() && !x.startsWith(prefix)) kept.append(x).append(';');
            }
            out.put(path, d.substring(0, i) + (kept.isEmpty() ? "" : " xattrs={" + kept + "}") + d.substring(end + 1));
        });
        return out;
    }

    private static boolean driverPrivate(String xattr) {
        return xattr.startsWith("trusted.overlay.") || xattr.startsWith("user.overlay.") || xattr.equals("security.selinux");
    }

    private static String xattrs(Path p) {
        List<String> names;
        try {
            names = new ArrayList<>(Xattrs.list(p));
        } catch (SyscallException e) {
            return " xattrs=?(" + e.errnoName() + ")";
        }
        names.removeIf(TreeDescription::driverPrivate);
        if (names.isEmpty()) return "";
        names.sort(null);
        StringBuilder b = new StringBuilder(" xattrs={");
        for (String n : names) {
            byte[] v = Xattrs.get(p, n);
            b.append(n).append('=').append(v == null ? "" : HexFormat.of().formatHex(v)).append(';');
        }
        return b.append('}').toString();
    }

    private static String digest(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (IOException e) {
            return "unreadable(" + e.getMessage() + ")";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
