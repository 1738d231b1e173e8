package dev.strata.snapshotter;

/** Disk usage of one snapshot, its parents excluded: allocated bytes and inodes, as containerd's fs.DiskUsage counts. */
public record Usage(long size, long inodes) {
    public static final Usage ZERO = new Usage(0, 0);
}
