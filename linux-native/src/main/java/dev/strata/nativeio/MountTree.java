package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A detached mount: a tree cloned with open_tree(OPEN_TREE_CLONE) or made by fsmount, held by its descriptor and in
 * no mount table until {@link #attach} moves it somewhere. While detached it is reachable only through this
 * descriptor ({@link #path()}: {@code /proc/self/fd/N/<dir>} names a directory inside it, e.g. an overlay's lower), and closing the descriptor (or the process dying) frees it, so a
 * detached tree can never be left behind. An overlay stacked on detached lowers keeps them alive itself, and frees
 * them when it is unmounted.
 *
 * <p>{@link #idmap} makes the tree an idmapped mount (mount_setattr with MOUNT_ATTR_IDMAP): a file whose on-disk
 * owner is {@code k} shows as the owner the user namespace maps {@code k} to, and a file created through the tree
 * by host id {@code h} is stored as the id that maps to {@code h}.
 */
public final class MountTree implements AutoCloseable {
    public static final int OPEN_TREE_CLONE = 1, OPEN_TREE_CLOEXEC = FileConstants.O_CLOEXEC;
    public static final long MOUNT_ATTR_IDMAP = 0x100000;
    /** sizeof(struct mount_attr): attr_set, attr_clr, propagation, userns_fd, 8 bytes each. */
    private static final long MOUNT_ATTR_SIZE = 32;

    private static final class H {
        static final MethodHandle OPEN_TREE = Native.errnoCall("open_tree", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle MOUNT_SETATTR = Native.errnoCall("mount_setattr",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle MOVE_MOUNT = Native.errnoCall("move_mount",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private final Fd fd;
    private final String what;

    MountTree(Fd fd, String what) {
        this.fd = fd;
        this.what = what;
    }

    /** open_tree(OPEN_TREE_CLONE): a private bind of {@code dir} alone (mounts below it are not taken along). */
    public static MountTree cloneOf(Path dir) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) H.OPEN_TREE.invokeExact(st, FileConstants.AT_FDCWD, a.allocateFrom(dir.toString()),
                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
            if (r < 0) throw new SyscallException("open_tree", dir.toString(), Native.errno(st));
            return new MountTree(new Fd(r, "open_tree " + dir), dir.toString());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Idmaps this tree through {@code userns}. Allowed once, before the tree is attached; EINVAL when the filesystem
     * cannot be idmapped (overlay itself, or a kernel without idmapped mounts for it).
     */
    public MountTree idmap(UserNamespace userns) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment attr = a.allocate(MOUNT_ATTR_SIZE, 8);
            attr.set(JAVA_LONG, 0, MOUNT_ATTR_IDMAP);
            attr.set(JAVA_LONG, 24, userns.fd());
            int r = (int) H.MOUNT_SETATTR.invokeExact(st, fd.fd(), a.allocateFrom(""), FileConstants.AT_EMPTY_PATH, attr, MOUNT_ATTR_SIZE);
            if (r < 0) throw new SyscallException("mount_setattr idmap", what, Native.errno(st));
            return this;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The tree's root through this process's descriptor table, usable by path-based calls while the tree is open. */
    public Path path() {
        return fd.path();
    }

    public Fd fd() {
        return fd;
    }

    /** move_mount: attaches the tree on {@code target}. It then stays mounted after this object is closed. */
    public void attach(Path target) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) H.MOVE_MOUNT.invokeExact(st, fd.fd(), a.allocateFrom(""), FileConstants.AT_FDCWD,
                    a.allocateFrom(target.toString()), FsContext.MOVE_MOUNT_F_EMPTY_PATH);
            if (r < 0) throw new SyscallException("move_mount", what + " on " + target, Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Closes the descriptor: a detached tree is freed, an attached one stays where it is. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "mount tree " + what + " (" + fd + ")";
    }
}
