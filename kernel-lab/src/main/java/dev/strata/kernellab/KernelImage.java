package dev.strata.kernellab;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A kernel image to boot, and the release it reports ({@code uname -r}), which names its module tree. The release
 * is read from the x86 boot header ({@code kernel_version} at 0x20E points to a string 0x200 bytes further), and
 * failing that from a {@code vmlinuz-RELEASE} file name.
 */
public record KernelImage(Path path, String release) {
    private static final Pattern FILE_NAME = Pattern.compile("(?:vmlinuz|bzImage|vmlinux)-(.+)");

    /** Reads the release of {@code path}; throws a {@link KernelLabException} naming the file when it cannot. */
    public static KernelImage of(Path path) {
        Path p = path.toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new KernelLabException("kernel image " + p + " does not exist (install one, e.g. apt-get install linux-image-cloud-amd64, or pass the path of a bzImage)");
        }
        if (!Files.isReadable(p)) throw new KernelLabException("kernel image " + p + " is not readable (run as root)");
        String fromHeader = releaseFromBootHeader(p);
        if (fromHeader != null) return new KernelImage(p, fromHeader);
        Matcher m = FILE_NAME.matcher(p.getFileName().toString());
        if (m.matches()) return new KernelImage(p, m.group(1));
        throw new KernelLabException("cannot tell the release of kernel image " + p + ": it has no x86 boot header and its name is not vmlinuz-RELEASE");
    }

    static String releaseFromBootHeader(Path p) {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
            if (f.length() < 0x300) return null;
            byte[] magic = new byte[4];
            f.seek(0x202);
            f.readFully(magic);
            if (!new String(magic, StandardCharsets.US_ASCII).equals("HdrS")) return null;
            f.seek(0x20E);
            int lo = f.read(), hi = f.read();
            long off = ((hi << 8) | lo) + 0x200L;
            if (off <= 0x200 || off + 1 > f.length()) return null;
            byte[] buf = new byte[256];
            f.seek(off);
            int n = f.read(buf);
            int end = 0;
            while (end < n && buf[end] != 0) end++;
            String s = new String(buf, 0, end, StandardCharsets.US_ASCII).trim();
            int sp = s.indexOf(' ');
            String release = sp < 0 ? s : s.substring(0, sp);
            return release.isEmpty() ? null : release;
        } catch (IOException e) {
            throw new KernelLabException("cannot read kernel image " + p + ": " + e);
        }
    }
}
