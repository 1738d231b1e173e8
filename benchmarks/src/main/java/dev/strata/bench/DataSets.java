package dev.strata.bench;

import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarWriter;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The two data sets of /work/shared/peerbench ({@code gen-tar}): N regular files of one size spread over D
 * directories (d000/f00000 ...), incompressible xorshift content seeded per file (splitmix64 of seed + i, as
 * peerbench), mode 0644/0755, uid/gid 0, mtime 2020-01-01, plain ustar headers.
 */
record DataSets(String name, int files, int dirs, long size) {
    static final DataSets SMALL = new DataSets("small-files (20,000 x 4 KiB, 200 dirs)", 20_000, 200, 4096);
    static final DataSets LARGE = new DataSets("large-files (20 x 20 MiB)", 20, 1, 20L << 20);
    private static final long MTIME = 1_577_836_800L * 1_000_000_000L;

    String shortName() {
        return files == 20_000 ? "small" : files == 20 ? "large" : files + "x" + size;
    }

    long payload() {
        return files * size;
    }

    /** Writes the tar; returns its size. */
    long writeTar(Path out) throws IOException {
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
            TarWriter w = new TarWriter(os);
            byte[] buf = new byte[1 << 20];
            int cur = -1;
            for (int i = 0; i < files; i++) {
                int d = (int) ((long) i * dirs / files);
                if (d != cur) {
                    cur = d;
                    TarHeader h = new TarHeader();
                    h.name = String.format("d%03d/", d);
                    h.type = TarHeader.DIRECTORY;
                    h.mode = 0755;
                    h.mtimeNanos = MTIME;
                    w.writeHeader(h);
                }
                TarHeader h = new TarHeader();
                h.name = String.format("d%03d/f%05d", d, i);
                h.type = TarHeader.REGULAR;
                h.mode = 0644;
                h.size = size;
                h.mtimeNanos = MTIME;
                w.writeHeader(h);
                long state = splitmix(1 + i);
                long left = size;
                while (left > 0) {
                    int n = (int) Math.min(left, buf.length);
                    state = fill(state, buf, n);
                    w.write(buf, 0, n);
                    left -= n;
                }
            }
            w.finish();
        }
        return Files.size(out);
    }

    private static long splitmix(long seed) {
        long z = seed + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return z == 0 ? 1 : z;
    }

    /** xorshift64 output, little-endian, as peerbench's fill. */
    private static long fill(long s, byte[] b, int n) {
        for (int i = 0; i < n; i += 8) {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            for (int k = 0; k < 8 && i + k < n; k++) b[i + k] = (byte) (s >>> (8 * k));
        }
        return s;
    }

    /** Writes both data sets' tars into a directory: {@code DataSets DIR} (small.tar, large.tar). */
    public static void main(String[] args) throws IOException {
        Path dir = Files.createDirectories(Path.of(args[0]));
        for (DataSets s : List.of(SMALL, LARGE)) System.out.println(dir.resolve(s.shortName() + ".tar") + " " + s.writeTar(dir.resolve(s.shortName() + ".tar")));
    }
}
