package dev.strata.cli;

import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Trees;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * What one layer's own data takes: its apparent size (file sizes, each inode once, as moby's directory.Size) and
 * its disk use (allocated blocks, as du(1)). Measured in the directory the driver keeps the layer's own data in
 * ({@code UpperDir} for overlay, {@code Dir} for vfs), without crossing into mounts; a driver that shows no such
 * directory (devmapper, aufs) is measured by its diff size against the parent, and its disk use is unknown (-1).
 */
record DiskUsage(long size, long disk) {
    /** Metadata keys that name the directory holding a layer's own data, by driver. */
    private static final String[] OWN_DATA_KEYS = {"UpperDir", "Dir"};

    static DiskUsage of(StorageDriver d, String id, String parent) {
        Map<String, String> meta = d.metadata(id);
        for (String k : OWN_DATA_KEYS) {
            String dir = meta.get(k);
            if (dir != null && Files.isDirectory(Path.of(dir))) return walk(Path.of(dir));
        }
        return new DiskUsage(d.diffSize(id, parent), -1);
    }

    static DiskUsage walk(Path dir) {
        long[] acc = {0, 0};
        Trees.inodes(dir, true, (directory, size, blocks) -> {
            if (!directory) acc[0] += size;
            acc[1] += blocks * 512;
        });
        return new DiskUsage(acc[0], acc[1]);
    }

    /** 1234567 as "1.2 MB", as docker prints sizes (decimal units). */
    static String human(long bytes) {
        if (bytes < 0) return "-";
        if (bytes < 1000) return bytes + " B";
        String[] units = {"kB", "MB", "GB", "TB", "PB"};
        double v = bytes;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(java.util.Locale.ROOT, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
    }
}
