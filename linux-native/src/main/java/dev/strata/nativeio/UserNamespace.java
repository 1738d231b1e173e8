package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A user namespace with given uid and gid maps, held by an open {@code /proc/PID/ns/user} descriptor: what
 * {@link MountTree#idmap} needs. An idmapped mount keeps its own reference to the namespace, so this object can be
 * closed as soon as the trees are idmapped; the namespace then lives exactly as long as the mounts that use it.
 *
 * <p>How it is made, without newuidmap or util-linux: only a single-threaded process can enter a new user namespace,
 * and the JVM never is one, so a helper is cloned into one (glibc's {@code clone} with {@code CLONE_NEWUSER}). The
 * helper runs the C library's {@code getpid} and exits at once, before any Java code could run in it: it shares this
 * process's memory ({@code CLONE_VM}, so nothing is copied, ~0.1 ms instead of the 10-60 ms of copying and freeing a
 * JVM's address space), runs on a stack of its own with every signal blocked, and touches neither locks nor
 * thread-local state. An exited child stays a zombie until it is reaped, and a zombie keeps its credentials, so its
 * {@code /proc/PID/uid_map} and {@code gid_map} can still be written (we are root in the parent namespace, which is
 * all the kernel asks) and its {@code ns/user} opened; then it is reaped. Nothing of it can outlive the JVM: if the JVM
 * dies first, init reaps the zombie. Helpers are named {@value #HELPER_NAME}.
 */
public final class UserNamespace implements AutoCloseable {
    public static final String HELPER_NAME = "strata-userns";
    private static final int CLONE_VM = 0x100, CLONE_NEWUSER = 0x10000000, SIGCHLD = 17;
    private static final int PR_SET_NAME = 15, PR_GET_NAME = 16;
    private static final int P_PID = 1, WEXITED = 4, WNOWAIT = 0x01000000, SIG_SETMASK = 2;
    private static final long STACK_SIZE = 16 * 1024, SIGSET_SIZE = 128, SIGINFO_SIZE = 128;

    private static final class H {
        /** int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...): no variadic arguments passed. */
        static final MethodHandle CLONE = Native.errnoCallVariadic("clone",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS), 4);
        static final MethodHandle WAITID = Native.errnoCall("waitid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle WAITPID = Native.errnoCall("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle PRCTL = Native.errnoCallVariadic("prctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), 1);
        static final MethodHandle SIGFILLSET = Native.plainCall("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SIGMASK = Native.plainCall("pthread_sigmask", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        static final MemorySegment GETPID = Native.LIBC.findOrThrow("getpid");
    }

    private final Fd fd;
    private final String uidMap;
    private final String gidMap;

    private UserNamespace(Fd fd, String uidMap, String gidMap) {
        this.fd = fd;
        this.uidMap = uidMap;
        this.gidMap = gidMap;
    }

    /**
     * A new user namespace whose maps are {@code uidMap} and {@code gidMap}, in the kernel's own form: one
     * {@code inside outside count} line a range ({@code "0 100000 65536\n"}). The kernel checks them (ranges must not
     * overlap, at most 340 lines); a map it refuses is an error that quotes it.
     */
    public static UserNamespace create(String uidMap, String gidMap) {
        int pid = cloneHelper();
        try {
            writeMap(pid, "uid_map", uidMap);
            writeMap(pid, "gid_map", gidMap);
            Fd ns = PosixFiles.open(java.nio.file.Path.of("/proc/" + pid + "/ns/user"), FileConstants.O_RDONLY, 0);
            return new UserNamespace(ns, uidMap, gidMap);
        } finally {
            reap(pid);
        }
    }

    /** A process named as the helper, seen in {@code /proc}: its pid and its parent's (alive, or a zombie not yet reaped). */
    public record Helper(long pid, long parent) {
    }

    /** Every process named {@value #HELPER_NAME} on the machine: what tests check no helper outlives. */
    public static java.util.List<Helper> helpers() {
        java.util.List<Helper> out = new java.util.ArrayList<>();
        try (var dirs = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
            for (java.nio.file.Path p : dirs.filter(d -> d.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try {
                    String stat = java.nio.file.Files.readString(p.resolve("stat"));
                    if (!stat.contains("(" + HELPER_NAME + ")")) continue;
                    String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // state, ppid, ...
                    out.add(new Helper(Long.parseLong(p.getFileName().toString()), Long.parseLong(rest[1])));
                } catch (java.io.IOException | RuntimeException gone) {
                    // exited while we looked
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** The namespace's descriptor, valid until {@link #close}. */
    public int fd() {
        return fd.fd();
    }

    public String uidMap() {
        return uidMap;
    }

    public String gidMap() {
        return gidMap;
    }

    /** Clones the helper and waits until it has exited, leaving it a zombie. */
    private static int cloneHelper() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment stack = a.allocate(STACK_SIZE, 16);
            MemorySegment top = stack.asSlice(STACK_SIZE - 16).reinterpret(0);
            MemorySegment oldName = a.allocate(16);
            MemorySegment all = a.allocate(SIGSET_SIZE, 8);
            MemorySegment oldMask = a.allocate(SIGSET_SIZE, 8);
            int filled = (int) H.SIGFILLSET.invokeExact(all);
            // The helper inherits the calling thread's name and signal mask: named, and deaf to signals.
            int got = (int) H.PRCTL.invokeExact(st, PR_GET_NAME, oldName);
            int renamed = (int) H.PRCTL.invokeExact(st, PR_SET_NAME, a.allocateFrom(HELPER_NAME));
            int masked = (int) H.SIGMASK.invokeExact(SIG_SETMASK, all, oldMask);
            int pid;
            int err;
            try {
                pid = (int) H.CLONE.invokeExact(st, H.GETPID, top, CLONE_VM | CLONE_NEWUSER | SIGCHLD, MemorySegment.NULL);
                err = pid < 0 ? Native.errno(st) : 0;
            } finally {
                if (masked == 0) {
                    int unmasked = (int) H.SIGMASK.invokeExact(SIG_SETMASK, oldMask, MemorySegment.NULL);
                }
                if (got == 0 && renamed == 0) {
                    int restored = (int) H.PRCTL.invokeExact(st, PR_SET_NAME, oldName);
                }
            }
            if (pid < 0) throw new SyscallException("clone CLONE_NEWUSER", "user namespace helper", err,
                    err == Errno.ENOSPC ? "user.max_user_namespaces reached" : null);
            // The stack must outlive the helper's run: wait for its exit (but leave it unreaped) before freeing it.
            MemorySegment info = a.allocate(SIGINFO_SIZE, 8);
            int r;
            do {
                r = (int) H.WAITID.invokeExact(st, P_PID, pid, info, WEXITED | WNOWAIT);
            } while (r < 0 && Native.errno(st) == Errno.EINTR);
            if (r < 0) throw new SyscallException("waitid", "user namespace helper " + pid, Native.errno(st));
            return pid;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static void writeMap(int pid, String file, String map) {
        String path = "/proc/" + pid + "/" + file;
        byte[] b = map.getBytes(StandardCharsets.US_ASCII);
        try (Fd f = PosixFiles.open(java.nio.file.Path.of(path), FileConstants.O_WRONLY, 0);
             Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment buf = a.allocate(Math.max(1, b.length));
            MemorySegment.copy(b, 0, buf, JAVA_BYTE, 0, b.length);
            // The kernel takes a map in one write only.
            long n = Libc.write(st, f.fd(), buf, b.length);
            if (n < 0) throw new SyscallException("write", path, (int) -n, "map " + map.strip().replace('\n', ','));
        }
    }

    private static void reap(int pid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment status = a.allocate(JAVA_INT);
            int r;
            do {
                r = (int) H.WAITPID.invokeExact(st, pid, status, 0);
            } while (r < 0 && Native.errno(st) == Errno.EINTR);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Drops this reference; the namespace lives on while an idmapped mount uses it. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "user namespace uid_map [" + uidMap.strip().replace('\n', ',') + "] gid_map [" + gidMap.strip().replace('\n', ',') + "]";
    }

}
