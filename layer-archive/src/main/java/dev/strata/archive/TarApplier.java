package dev.strata.archive;

import dev.strata.api.StorageException;
import dev.strata.nativeio.fast.Sys;
import dev.strata.archive.tar.TarFormatException;
import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarReader;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.strata.archive.EntryNames.META;
import static dev.strata.archive.EntryNames.OPAQUE;
import static dev.strata.archive.EntryNames.WH;
import static dev.strata.nativeio.fast.Sys.*;

/**
 * Applies one tar into a layer directory ({@link LayerArchive#apply}). Every path is resolved by the kernel beneath
 * the layer root: parents (of entries, hardlink targets and whiteouts) with openat2 RESOLVE_IN_ROOT, so symlinks
 * inside the layer are followed as a chroot would (absolute ones from the layer root) and nothing can climb out; the
 * final component is always acted on by name under its parent's descriptor without being followed (O_NOFOLLOW,
 * AT_SYMLINK_NOFOLLOW, linkat without AT_SYMLINK_FOLLOW, removal that never descends a symlink).
 *
 * <p>Single-threaded; one instance per apply.
 */
final class TarApplier implements AutoCloseable {
    private static final long IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

    private final String layer;
    private final ApplyOptions options;
    private final Sys sys = new Sys();
    private final int rootFd;
    private final boolean root;
    private final int euid, egid, umask;
    private final Beneath beneath;
    private final EntryMetadata meta;
    private final WhiteoutWriter whiteouts;
    /** Directories to finish after their contents, in the order of their last entry (a repeated entry's last wins). */
    private final java.util.LinkedHashMap<String, DirTime> dirTimes = new java.util.LinkedHashMap<>();
    /** DELETE_IN_PLACE: what this tar made, which an opaque marker must keep (moby's unpackedPaths). */
    private final Set<String> unpacked;
    private TarHeader current;

    private record DirTime(String rel, long mtimeNanos, int deferredMode) {
    }

    TarApplier(Path layerRoot, ApplyOptions options) {
        this.layer = layerRoot.toString();
        this.options = options;
        int fd = sys.openat(-100, layer, O_PATH | O_DIRECTORY, 0);
        if (fd < 0) {
            sys.close();
            throw new SyscallException("open", layer, -fd);
        }
        this.rootFd = fd;
        this.euid = dev.strata.nativeio.Kernel.euid();
        this.egid = Sys.egid();
        this.root = euid == 0;
        this.umask = Sys.umask();
        this.unpacked = options.whiteouts() == WhiteoutFormat.DELETE_IN_PLACE ? new HashSet<>(1 << 12) : null;
        Beneath.Errors errors = new Beneath.Errors() {
            @Override
            public UnsafeEntryException refuse(String why) {
                return TarApplier.this.refuse(why);
            }

            @Override
            public StorageException failed(String call, String what, long negErrno) {
                return TarApplier.this.failed(call, what, negErrno);
            }
        };
        this.beneath = new Beneath(sys, fd, errors);
        this.meta = new EntryMetadata(sys, errors, euid, egid, umask);
        this.whiteouts = new WhiteoutWriter(sys, beneath, meta, errors, options.whiteouts(), unpacked);
    }

    long apply(InputStream in) {
        return apply(new TarReader(in));
    }

    long apply(TarReader reader) {
        try {
            return applyAll(reader);
        } finally {
            reader.release();
        }
    }

    private long applyAll(TarReader reader) {
        long total = 0;
        while (true) {
            TarHeader h;
            try {
                h = reader.next();
            } catch (TarFormatException e) {
                throw new UnsafeEntryException(layer, TarHeader.utf8(e.entry()), e.getMessage());
            } catch (UncheckedIOException e) {
                throw new StorageException("applyDiff", layer, "reading the tar stream: " + e.getCause().getMessage(), e);
            }
            if (h == null) break;
            if (!options.ids().isIdentity()) {
                h.uid = Integer.toUnsignedLong(options.ids().uid((int) h.uid));
                h.gid = Integer.toUnsignedLong(options.ids().gid((int) h.gid));
            }
            current = h;
            if (h.isRegular()) total += h.size;
            try {
                entry(reader, h);
            } catch (TarFormatException e) {
                throw new UnsafeEntryException(layer, h.displayName(), e.getMessage());
            } catch (SyscallException e) {
                throw new StorageException("applyDiff", layer, "tar entry \"" + h.displayName() + "\": " + e.getMessage(), e);
            } finally {
                beneath.bury();
            }
        }
        restoreDirectories();
        return total;
    }

    private void entry(TarReader r, TarHeader h) {
        String rel;
        try {
            rel = EntryNames.normalize(h.name);
        } catch (EntryNames.Refused e) {
            throw refuse(e.getMessage());
        }
        int slash = rel.indexOf('/');
        String first = slash < 0 ? rel : rel.substring(0, slash);
        if (first.startsWith(META) && !rel.equals(OPAQUE)) return; // aufs metadata (.wh..wh.plnk, .wh..wh.aufs, ...): skipped, as moby does
        // overlayfs' own xattrs would change how the layer stacks: never taken from a tar (containerd drops every
        // trusted.* one; the rest of the entry applies)
        if (!h.xattrs.isEmpty()) h.xattrs.keySet().removeIf(x -> x.startsWith("trusted.overlay.") || x.startsWith("user.overlay."));
        String parent = EntryNames.parent(rel), base = EntryNames.base(rel);
        if (!rel.isEmpty() && base.startsWith(WH)) {
            whiteouts.apply(h, parent, base);
            return;
        }
        if (rel.isEmpty() && h.type != TarHeader.DIRECTORY) throw refuse("it would replace the layer root");
        switch (h.type) {
            case TarHeader.REGULAR, TarHeader.REGULAR_OLD, TarHeader.CONTIGUOUS -> regular(r, h, parent, base);
            case TarHeader.DIRECTORY -> directory(h, rel, parent, base);
            case TarHeader.SYMLINK -> symlink(h, parent, base);
            case TarHeader.HARDLINK -> hardlink(h, rel, parent, base);
            case TarHeader.CHAR, TarHeader.BLOCK, TarHeader.FIFO -> node(h, parent, base);
            default -> throw refuse("unsupported entry type '" + (char) h.type + "'");
        }
        if (unpacked != null) {
            String where = beneath.resolvedDir(parent);
            unpacked.add(where.isEmpty() ? base : where + "/" + base);
        }
    }

    // ---- entry kinds ----

    private void regular(TarReader r, TarHeader h, String parent, String base) {
        int pfd = beneath.parentFd(parent);
        int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
        int fd = sys.openat(pfd, base, flags, h.mode & 0777);
        if (fd == -EEXIST) {
            beneath.removeExisting(pfd, base);
            fd = sys.openat(pfd, base, flags, h.mode & 0777);
        }
        if (fd < 0) throw failed("openat", base, fd);
        try {
            final int out = fd;
            TarReader.Sink sink = new TarReader.ChannelSink() {
                @Override
                public void write(byte[] b, int off, int len) {
                    int e = sys.writeFully(out, b, off, len);
                    if (e < 0) throw new SyscallException("write", h.displayName(), -e);
                }

                @Override
                public void write(java.lang.foreign.MemorySegment b, long off, int len) {
                    int e = sys.writeFully(out, b, off, len);
                    if (e < 0) throw new SyscallException("write", h.displayName(), -e);
                }

                @Override
                public void transferFrom(java.nio.channels.FileChannel src, long position, long count) throws IOException {
                    // the archive is a file: copy_file_range from it, through our own descriptor's magic link
                    try (var dst = java.nio.channels.FileChannel.open(Path.of(Sys.procPath(out, "")), java.nio.file.StandardOpenOption.WRITE)) {
                        dst.position(dst.size()); // after what went through the buffer (a new file, written in order)
                        long done = 0;
                        while (done < count) {
                            long k = src.transferTo(position + done, count - done, dst);
                            if (k <= 0) throw new IOException("archive ends inside " + h.displayName());
                            done += k;
                        }
                    }
                }
            };
            if (h.sparse == null) {
                r.transfer(r.remaining(), sink);
            } else {
                // keep the holes: seek over them instead of writing zeros
                for (int i = 0; i < h.sparse.length; i += 2) {
                    if (h.sparse[i + 1] == 0) continue;
                    long s = sys.lseek(fd, h.sparse[i], SEEK_SET);
                    if (s < 0) throw failed("lseek", base, s);
                    r.transfer(h.sparse[i + 1], sink);
                }
                int e = sys.ftruncate(fd, h.size);
                if (e < 0) throw failed("ftruncate", base, e);
            }
            // a file we just made is ours, and in our group when its directory's group is ours: chown only otherwise
            if (h.uid != euid || h.gid != egid || beneath.parentGid() != egid) meta.ownership(h, fd, -1, null);
            meta.mode(h, fd, -1, null);
            meta.xattrs(h, fd, -1, null);
            int e = sys.utimens(fd, null, h.mtimeNanos, h.mtimeNanos, 0);
            if (e < 0) throw failed("futimens", base, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            sys.close(fd);
        }
    }

    private void directory(TarHeader h, String rel, String parent, String base) {
        int fd;
        boolean merged = rel.isEmpty();
        int perm = h.mode & 07777;
        // without root, a directory we could not write into would stop its own entries: make it 0700 until the end
        boolean defer = !root && (perm & 0700) != 0700;
        if (rel.isEmpty()) {
            fd = sys.openat(rootFd, ".", O_RDONLY | O_DIRECTORY, 0);
            if (fd < 0) throw failed("open", ".", fd);
        } else {
            int pfd = beneath.parentFd(parent);
            int e = sys.mkdirat(pfd, base, (perm | (defer ? 0700 : 0)) & 0777);
            if (e == -EEXIST) {
                int t = sys.typeOf(pfd, base);
                if (t != S_IFDIR) {
                    beneath.removeExisting(pfd, base);
                    e = sys.mkdirat(pfd, base, (perm | (defer ? 0700 : 0)) & 0777);
                } else {
                    e = 0; // an existing directory is merged: only its metadata is applied
                    merged = true;
                }
            }
            if (e < 0) throw failed("mkdirat", base, e);
            fd = sys.openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
            if (fd < 0) throw failed("openat", base, fd);
        }
        try {
            meta.ownership(h, fd, -1, null);
            // a merged directory keeps whatever mode it had unless it is set: the tar's mode is exact either way
            if (!defer) {
                if (merged) meta.exactMode(h, fd);
                else meta.mode(h, fd, -1, null);
            }
            meta.xattrs(h, fd, -1, null);
        } finally {
            sys.close(fd);
        }
        dirTimes.remove(rel);
        dirTimes.put(rel, new DirTime(rel, h.mtimeNanos, defer ? perm : -1));
    }

    private void symlink(TarHeader h, String parent, String base) {
        // the target is data, kept verbatim whatever it points at: every path is resolved in the layer root anyway
        if (h.linkName.isEmpty()) throw refuse("symlink with an empty target");
        int pfd = beneath.parentFd(parent);
        int e = sys.symlinkat(h.linkName, pfd, base);
        if (e == -EEXIST) {
            beneath.removeExisting(pfd, base);
            e = sys.symlinkat(h.linkName, pfd, base);
        }
        if (e < 0) throw failed("symlinkat", base, e);
        meta.ownership(h, -1, pfd, base);
        meta.xattrs(h, -1, pfd, base);
        e = sys.utimens(pfd, base, h.mtimeNanos, h.mtimeNanos, AT_SYMLINK_NOFOLLOW);
        if (e < 0) throw failed("utimensat", base, e);
    }

    private void hardlink(TarHeader h, String rel, String parent, String base) {
        String target;
        try {
            target = EntryNames.normalize(h.linkName);
        } catch (EntryNames.Refused e) {
            throw refuse("hardlink target \"" + TarHeader.utf8(h.linkName) + "\": " + e.getMessage());
        }
        if (target.isEmpty()) throw refuse("hardlink to the layer root");
        if (target.startsWith(META)) throw refuse("hardlink into aufs metadata (" + TarHeader.utf8(target) + ") is not supported");
        if (target.equals(rel)) return; // a link to itself: nothing to do
        int tfd = beneath.existingParentFd(EntryNames.parent(target));
        if (tfd == -ENOENT) throw refuse("hardlink target \"" + TarHeader.utf8(target) + "\" does not exist in the layer");
        if (tfd < 0) throw failed("openat2", EntryNames.parent(target), tfd);
        int pfd = beneath.parentFd(parent);
        int e = sys.linkat(tfd, EntryNames.base(target), pfd, base);
        if (e == -EEXIST) {
            beneath.removeExisting(pfd, base);
            e = sys.linkat(tfd, EntryNames.base(target), pfd, base);
        }
        if (e == -ENOENT) throw refuse("hardlink target \"" + TarHeader.utf8(target) + "\" does not exist in the layer");
        if (e == -EPERM) throw refuse("hardlink target \"" + TarHeader.utf8(target) + "\" is a directory");
        if (e < 0) throw failed("linkat", base, e);
    }

    private void node(TarHeader h, String parent, String base) {
        int type = switch (h.type) {
            case TarHeader.CHAR -> S_IFCHR;
            case TarHeader.BLOCK -> S_IFBLK;
            default -> S_IFIFO;
        };
        if (type != S_IFIFO && !options.allowDevices()) {
            throw refuse("device node " + h.devMajor + ":" + h.devMinor + " not permitted (ApplyOptions.allowDevices is false)");
        }
        int pfd = beneath.parentFd(parent);
        long dev = type == S_IFIFO ? 0 : Sys.makedev(h.devMajor, h.devMinor);
        int e = sys.mknodat(pfd, base, type | (h.mode & 0777), dev);
        if (e == -EEXIST) {
            beneath.removeExisting(pfd, base);
            e = sys.mknodat(pfd, base, type | (h.mode & 0777), dev);
        }
        if (e < 0) throw failed("mknodat", base, e);
        meta.ownership(h, -1, pfd, base);
        meta.mode(h, -1, pfd, base);
        meta.xattrs(h, -1, pfd, base);
        e = sys.utimens(pfd, base, h.mtimeNanos, h.mtimeNanos, AT_SYMLINK_NOFOLLOW);
        if (e < 0) throw failed("utimensat", base, e);
    }

    private void restoreDirectories() {
        // children before parents: a deferred mode may shut the way to what lies below
        List<DirTime> all = new ArrayList<>(dirTimes.values());
        for (int i = all.size() - 1; i >= 0; i--) {
            DirTime d = all.get(i);
            int fd = d.rel.isEmpty() ? sys.openat(rootFd, ".", O_RDONLY | O_DIRECTORY, 0)
                    : sys.openat2(rootFd, d.rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, IN_ROOT);
            if (fd < 0) continue; // replaced or removed by a later entry
            try {
                if (d.deferredMode >= 0) {
                    int e = sys.fchmod(fd, d.deferredMode);
                    if (e < 0) throw restoreFailed("fchmod", d.rel, e);
                }
                int e = sys.utimens(fd, null, d.mtimeNanos, d.mtimeNanos, 0);
                if (e < 0) throw restoreFailed("futimens", d.rel, e);
            } finally {
                sys.close(fd);
            }
        }
    }

    // ---- errors ----

    private StorageException restoreFailed(String call, String rel, int negErrno) {
        return new StorageException("applyDiff", layer, "restoring directory \"" + (rel.isEmpty() ? "." : TarHeader.utf8(rel))
                + "\" after its contents: " + new SyscallException(call, TarHeader.utf8(rel), -negErrno).getMessage());
    }

    private UnsafeEntryException refuse(String why) {
        return new UnsafeEntryException(layer, current.displayName(), why);
    }

    private StorageException failed(String call, String what, long negErrno) {
        return new StorageException("applyDiff", layer, "tar entry \"" + current.displayName() + "\": "
                + new SyscallException(call, TarHeader.utf8(what), (int) -negErrno).getMessage());
    }

    @Override
    public void close() {
        beneath.invalidate();
        beneath.bury();
        sys.close(rootFd);
        sys.close();
    }
}
