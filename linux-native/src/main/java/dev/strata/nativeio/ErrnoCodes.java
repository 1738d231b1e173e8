package dev.strata.nativeio;

/**
 * errno numbers of Linux (x86_64 and aarch64 share them), declared once: {@link Errno} (with their names) and
 * {@link dev.strata.nativeio.fast.Sys} implement this, so {@code Errno.ENOENT} and a static import of {@code Sys.*}
 * name the same numbers.
 */
public interface ErrnoCodes {
    int EPERM = 1, ENOENT = 2, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EBADF = 9, EAGAIN = 11,
            ENOMEM = 12, EACCES = 13, EFAULT = 14, ENOTBLK = 15, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19,
            ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25, ETXTBSY = 26, EFBIG = 27,
            ENOSPC = 28, ESPIPE = 29, EROFS = 30, EMLINK = 31, EPIPE = 32, ERANGE = 34, EDEADLK = 35,
            ENAMETOOLONG = 36, ENOLCK = 37, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENODATA = 61, EOVERFLOW = 75,
            EOPNOTSUPP = 95, EADDRINUSE = 98, ETIMEDOUT = 110, ESTALE = 116, EDQUOT = 122, ENOTSUP = EOPNOTSUPP;
}
