package dev.strata.nativeio;

import dev.strata.api.StorageException;

/**
 * A failed system call: which call, on which path, with which errno. The message reads like
 * {@code mount /var/lib/strata/overlay/x/merged: EBUSY (Device or resource busy)}, plus the kernel's own text when
 * the call has one (the new mount API logs it on the fs context).
 */
public class SyscallException extends StorageException {
    private final String syscall;
    private final String path;
    private final int errno;

    public SyscallException(String syscall, String path, int errno) {
        this(syscall, path, errno, null);
    }

    public SyscallException(String syscall, String path, int errno, String detail) {
        super(syscall, path, Errno.name(errno) + " (" + Native.strerror(errno) + ")" + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.syscall = syscall;
        this.path = path;
        this.errno = errno;
    }

    public String syscall() {
        return syscall;
    }

    public String path() {
        return path;
    }

    public int errno() {
        return errno;
    }

    public String errnoName() {
        return Errno.name(errno);
    }

    public boolean is(int e) {
        return errno == e;
    }
}
