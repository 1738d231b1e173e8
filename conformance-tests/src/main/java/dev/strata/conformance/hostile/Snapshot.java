package dev.strata.conformance.hostile;

import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.Xattrs;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** {@link HostileCorpus#snapshot}: every path under a directory, described without following symlinks. */
final class Snapshot {
    private Snapshot() {
    }

    static Map<String, String> of(Path dir) {
        Map<String, String> out = new TreeMap<>();
        walk(dir, "", out);
        return out;
    }

    private static void walk(Path p, String rel, Map<String, String> out) {
        Stat st = PosixFiles.statx(null, p.toString(), PosixFiles.AT_SYMLINK_NOFOLLOW);
        StringBuilder d = new StringBuilder();
        d.append(switch (st.type()) {
            case Stat.S_IFDIR -> "dir";
            case Stat.S_IFREG -> "file";
            case Stat.S_IFLNK -> "symlink";
            case Stat.S_IFCHR -> "char";
            case Stat.S_IFBLK -> "block";
            case Stat.S_IFIFO -> "fifo";
            default -> "other";
        });
        d.append(" mode=").append(Integer.toOctalString(st.permissions())).append(" owner=").append(st.uid()).append(':').append(st.gid())
                .append(" nlink=").append(st.isDirectory() ? "-" : st.nlink()).append(" mtime=").append(st.mtimeNanos());
        if (st.isRegular()) d.append(" size=").append(st.size()).append(" sha256=").append(sha256(p));
        if (st.isSymlink()) d.append(" -> ").append(PosixFiles.readlinkat(null, p.toString()));
        if (st.type() == Stat.S_IFCHR || st.type() == Stat.S_IFBLK) d.append(" rdev=").append(st.rdevMajor()).append(',').append(st.rdevMinor());
        for (String x : new java.util.TreeSet<>(Xattrs.list(p))) {
            byte[] v = Xattrs.get(p, x);
            d.append(" xattr:").append(x).append('=').append(v == null ? "-" : HexFormat.of().formatHex(v));
        }
        out.put(rel, d.toString());
        if (st.isDirectory()) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                for (Path c : ds) walk(c, rel.isEmpty() ? c.getFileName().toString() : rel + "/" + c.getFileName(), out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static String sha256(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] b = new byte[65536];
            for (int n; (n = in.read(b)) > 0; ) md.update(b, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            return "unreadable(" + e.getClass().getSimpleName() + ")";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
