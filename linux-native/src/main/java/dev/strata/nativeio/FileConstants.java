package dev.strata.nativeio;

/**
 * The flag and type numbers of Linux's file calls, declared once. {@link PosixFiles}, {@link Stat}, {@link DirEntries}
 * and {@link dev.strata.nativeio.fast.Sys} implement this interface, so {@code PosixFiles.O_RDONLY} and a static
 * import of {@code Sys.*} name the same constants.
 */
public interface FileConstants {
    boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));

    int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200, O_NOCTTY = 0400, O_TRUNC = 01000,
            O_APPEND = 02000, O_NONBLOCK = 04000, O_CLOEXEC = 02000000, O_PATH = 010000000, O_NOATIME = 01000000;
    /** These two differ between x86_64 and aarch64. */
    int O_DIRECTORY = AARCH64 ? 040000 : 0200000, O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;

    int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_SYMLINK_FOLLOW = 0x400, AT_EMPTY_PATH = 0x1000;
    long RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08,
            RESOLVE_IN_ROOT = 0x10;
    int RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;
    int SEEK_SET = 0, SEEK_DATA = 3, SEEK_HOLE = 4;
    int LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    long UTIME_OMIT = (1L << 30) - 2;

    int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFLNK = 0120000, S_IFREG = 0100000, S_IFBLK = 060000, S_IFDIR = 040000,
            S_IFCHR = 020000, S_IFIFO = 010000;
    /** d_type of a directory entry; {@code DT_UNKNOWN} on filesystems without it (ext4 -O ^filetype, xfs ftype=0). */
    int DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;
}
