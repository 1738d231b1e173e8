package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The one place downcall handles are made. Every call that can fail captures errno in the same call
 * ({@code captureCallState}), because anything the JVM does between two calls may overwrite it. Modules that
 * bind calls of their own (quotactl, dm ioctls) build their handles here too.
 *
 * <p>Handles are created lazily, grouped per area in holder classes, because making them costs start-up time.
 */
public final class Native {
    public static final Linker LINKER = Linker.nativeLinker();
    public static final SymbolLookup LIBC = LINKER.defaultLookup();
    public static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Native() {
    }

    /**
     * The holder classes of this module's handles, roughly in the order a driver's first operation needs them (for
     * Libc, its areas: each holds a class per call). A test checks that the list names every holder.
     */
    static final java.util.List<String> HOLDERS = java.util.List.of("Kernel$H", "Libc$Open", "Libc$Meta", "Libc$Make",
            "Mounts$H", "MountRoots$H", "StatFs$H", "Libc$Xattr", "Ioctl$H", "FsContext$H", "MountTree$H", "UserNamespace$H", "Libc$Data", "Libc$Mem", "fast.Sys$H",
            "ProjectQuota$H", "Native$Strerror");

    /**
     * Makes every handle of this module on a daemon thread. A short-lived JVM that is about to spend a while on
     * something else (the conformance runner discovering its tests) overlaps the cost with that work, instead of
     * paying it on first use: ~7 ms a handle here, ~100 ms under TCG in the kernel lab. A caller that needs a
     * handle the thread is still making simply waits for it (class initialisation is locked).
     */
    public static Thread linkInBackground() {
        return Thread.ofPlatform().daemon().name("strata-native-link").start(() -> {
            for (String h : HOLDERS) {
                try {
                    Class<?> holder = Class.forName("dev.strata.nativeio." + h, true, Native.class.getClassLoader());
                    for (Class<?> call : holder.getDeclaredClasses()) { // Libc's areas hold a class per call
                        Class.forName(call.getName(), true, Native.class.getClassLoader());
                    }
                } catch (ClassNotFoundException | LinkageError e) {
                    return; // whoever uses that handle gets the same error, with its own stack
                }
            }
        });
    }

    /** A handle whose first argument is the errno capture segment ({@link #captureState}). */
    public static MethodHandle errnoCall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.findOrThrow(name), fd, Linker.Option.captureCallState("errno"));
    }

    /** Same, for variadic functions (ioctl, open, syscall): the arguments from {@code firstVariadic} on are the "...". */
    public static MethodHandle errnoCallVariadic(String name, FunctionDescriptor fd, int firstVariadic) {
        return LINKER.downcallHandle(LIBC.findOrThrow(name), fd, Linker.Option.captureCallState("errno"),
                Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** A handle for a call that cannot fail. */
    public static MethodHandle plainCall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.findOrThrow(name), fd);
    }

    /** A segment to pass as the first argument of an {@link #errnoCall} handle. */
    public static MemorySegment captureState(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    public static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** A C string, or NULL for null. */
    public static MemorySegment cString(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s);
    }

    /** Wraps what invokeExact may throw: errors pass, anything else becomes an IllegalStateException. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("native call failed", t);
    }

    private static final class Strerror {
        static final MethodHandle STRERROR = plainCall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** The C library's text for an errno ("Device or resource busy"). */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Strerror.STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return Errno.name(errno);
        }
    }
}
