package dev.strata.plugin;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A server's socket file (the graphdriver plugin's, the snapshotter's): a stale one (left by a server that died) is
 * removed at start, a live one or a file that is not a socket is refused; the socket is bound in a private directory,
 * given mode 0600 and then renamed into place, so nobody can connect before the mode is set (there is no umask in
 * Java); at close it is removed if it is still ours.
 */
public final class SocketFile {
    /** sun_path holds 108 bytes including the terminating NUL. */
    static final int MAX_PATH_BYTES = 107;
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private SocketFile() {
    }

    public static void checkLength(Path socket) throws IOException {
        int n = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (n > MAX_PATH_BYTES) {
            throw new IOException("socket path " + socket + " is " + n + " bytes long; a UNIX socket path may have at most "
                    + MAX_PATH_BYTES);
        }
    }

    /** Binds a server at the path it is given: the private bind path, or the final one (see {@link #bind}). */
    @FunctionalInterface
    public interface Binder {
        void bindAt(Path at) throws IOException, InterruptedException;
    }

    /**
     * Everything of the class comment around a server's own bind: a stale socket removed (a live one or a non-socket
     * refused), the server bound by {@code binder} in a private directory, the socket given mode 0600 and renamed to
     * {@code socket}, the private directory removed whatever happened. Whatever {@code binder} does at the bound
     * path before it returns (a warm-up) happens before the socket appears.
     *
     * @return the published socket's file key, for {@link #removeIfOurs}
     */
    public static Object bind(Path socket, Binder binder) throws IOException {
        prepare(socket);
        Path bindPath = privateBindPath(socket);
        Path at = bindPath != null ? bindPath : socket;
        try {
            binder.bindAt(at);
            return publish(at, socket);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + socket, e);
        } finally {
            if (bindPath != null) deleteTree(bindPath.getParent());
        }
    }

    /** Makes the parent directory and removes a stale socket; refuses a live one or a non-socket. */
    private static void prepare(Path socket) throws IOException {
        checkLength(socket);
        Files.createDirectories(socket.getParent());
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) return;
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new FileAlreadyExistsException(socket.toString(), null, "exists and is not a socket; not removing it");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            throw new IOException("another process is serving on " + socket + "; stop it first");
        } catch (ConnectException stale) {
            Files.deleteIfExists(socket);
        }
    }

    /**
     * Where to bind before {@link #publish}: {@code <dir>/.<name>.<pid>/s}, in a new 0700 directory. Null when that
     * path would be too long for sun_path; then bind at the final path and accept a short window before chmod.
     */
    private static Path privateBindPath(Path socket) throws IOException {
        Path dir = socket.resolveSibling("." + socket.getFileName() + "." + ProcessHandle.current().pid());
        Path bind = dir.resolve("s");
        if (bind.toString().getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) return null;
        deleteTree(dir);
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return bind;
    }

    /** Sets mode 0600 and moves the bound socket to its public path. Returns the file key that identifies it. */
    private static Object publish(Path bound, Path socket) throws IOException {
        Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
        if (!bound.equals(socket)) {
            Files.move(bound, socket, StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(bound.getParent());
        }
        return fileKey(socket);
    }

    /** Removes the socket file if it is still the one this server published. */
    public static void removeIfOurs(Path socket, Object key) {
        try {
            if (key != null && key.equals(fileKey(socket))) Files.deleteIfExists(socket);
        } catch (NoSuchFileException gone) {
            // already removed
        } catch (IOException e) {
            System.getLogger(SocketFile.class.getName()).log(System.Logger.Level.WARNING, "cannot remove " + socket + ": " + e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (var children = Files.list(dir)) {
            for (Path c : children.toList()) Files.deleteIfExists(c);
        }
        Files.deleteIfExists(dir);
    }

    private static Object fileKey(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }
}
