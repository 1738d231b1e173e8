package dev.strata.nativeio;

/**
 * What statx(2) reports of one file. Unlike {@code struct stat}, statx has the same layout on every architecture.
 * Times are nanoseconds since the epoch.
 */
public record Stat(int mode, int uid, int gid, long nlink, long ino, long size, long blocks, int devMajor,
                   int devMinor, int rdevMajor, int rdevMinor, long atimeNanos, long mtimeNanos, long ctimeNanos)
        implements FileConstants {

    public int type() {
        return mode & S_IFMT;
    }

    public int permissions() {
        return mode & 07777;
    }

    public boolean isDirectory() {
        return type() == S_IFDIR;
    }

    public boolean isRegular() {
        return type() == S_IFREG;
    }

    public boolean isSymlink() {
        return type() == S_IFLNK;
    }

    public boolean isCharDevice() {
        return type() == S_IFCHR;
    }

    /** An overlay whiteout: a character device 0/0. */
    public boolean isWhiteout() {
        return isCharDevice() && rdevMajor == 0 && rdevMinor == 0;
    }

    /** The device number the file lives on, as dev_t. */
    public long dev() {
        return PosixFiles.makedev(devMajor, devMinor);
    }

    public long rdev() {
        return PosixFiles.makedev(rdevMajor, rdevMinor);
    }
}
