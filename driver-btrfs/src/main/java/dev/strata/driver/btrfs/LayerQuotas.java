package dev.strata.driver.btrfs;

import dev.strata.api.InvalidOptionException;
import dev.strata.api.Sizes;
import dev.strata.api.StorageException;
import dev.strata.kit.AtomicFiles;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.btrfs.Qgroups;
import dev.strata.nativeio.btrfs.Subvolumes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Per-layer size limits through qgroups, as moby's btrfs driver sets them: quotas on for the filesystem, a limit
 * on the layer's referenced bytes ({@code max_rfer}; writing past it fails with EDQUOT), and the size in
 * {@code quotas/<id>} as text. Limits live in the filesystem's quota tree, so they hold across restarts; the files
 * put them back when quotas were turned off meanwhile (moby's Cleanup turns them off), when the driver next opens.
 *
 * <p>A destroyed subvolume leaves its qgroup behind. It is removed right after the destroy where the kernel lets
 * it; Linux 6.8 and later refuse (EBUSY) until the cleaner has dropped the subvolume and then remove it by
 * themselves. Ids refused are kept under {@code .btrfs/qgroups} and tried again on later removes and opens.
 */
final class LayerQuotas {
    /** What qgroup calls return when quotas are off; Errno does not name it. */
    private static final int ENOTCONN = 107;

    private final BtrfsLayout layout;
    private final BtrfsOptions options;
    private final Path pending;
    private volatile boolean knownOn;
    /** Until when (System.nanoTime) quotas are taken to be off without asking: see {@link #on}. */
    private volatile long offUntil = System.nanoTime();

    LayerQuotas(BtrfsLayout layout, BtrfsOptions options) {
        this.layout = layout;
        this.options = options;
        this.pending = layout.pendingQgroups();
        if (options.minSpace() > 0 || options.defaultSize() > 0) enable(); // as moby's Init: say now if it cannot be done
        releasePending();
    }

    /**
     * The limit a new layer gets: its {@code size} storage option, else (read-write layers only) {@code btrfs.size};
     * 0 for none. Any other storage option is an error that names it.
     */
    long sizeFor(String op, String id, Map<String, String> storageOpts, boolean readWrite) {
        long size = readWrite ? options.defaultSize() : 0;
        for (Map.Entry<String, String> e : storageOpts.entrySet()) {
            if (!e.getKey().equalsIgnoreCase("size")) throw InvalidOptionException.unknown(BtrfsProvider.NAME, e.getKey(), List.of("size"));
            try {
                size = Sizes.parse(e.getValue());
            } catch (IllegalArgumentException ex) {
                throw new InvalidOptionException(BtrfsProvider.NAME, "size", "invalid value for size: " + ex.getMessage());
            }
            if (size <= 0) throw new InvalidOptionException(BtrfsProvider.NAME, "size", "invalid size " + e.getValue() + ": must be more than 0");
        }
        if (size > 0 && size < options.minSpace()) {
            throw new InvalidOptionException(BtrfsProvider.NAME, "size", op + " " + id + ": size " + Sizes.human(size)
                    + " is less than btrfs.min_space " + Sizes.human(options.minSpace()));
        }
        return size;
    }

    /** Limits the subvolume to {@code size} bytes and records the size under the layer's id. */
    void limit(String id, Path subvolume, long size) {
        enable();
        Qgroups.limit(subvolume, size);
        try {
            if (!Files.isDirectory(layout.quotas())) {
                Files.createDirectories(layout.quotas());
                Files.setPosixFilePermissions(layout.quotas(), PosixFilePermissions.fromString("rwx------"));
            }
        } catch (IOException e) {
            throw new StorageException("record quota", layout.quotas().toString(), e.toString(), e);
        }
        AtomicFiles.write(layout.quota(id), Long.toString(size));
    }

    /** The recorded limit of a layer, if it has one (moby's file: decimal bytes). */
    Optional<Long> recorded(String id) {
        try {
            String s = Files.readString(layout.quota(id), StandardCharsets.US_ASCII).strip();
            return Optional.of(Long.parseLong(s));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            throw new StorageException("read quota", layout.quota(id).toString(), e.toString(), e);
        }
    }

    /** Gives a staged copy of a layer the layer's recorded limit, so an apply into it is held to the same size. */
    void carryOver(String id, Path staged) {
        Optional<Long> size = recorded(id);
        if (size.isPresent()) {
            enable();
            Qgroups.limit(staged, size.get());
        }
    }

    /**
     * Puts back the recorded limits the filesystem lost (quotas turned off meanwhile: moby's Cleanup does that) for
     * the layers in place. One readdir when no layer has a limit; else one listing of the qgroups and an ioctl per
     * limited layer.
     */
    void restore(Function<String, Path> layerOf) {
        List<String> ids = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.quotas())) {
            for (Path p : ds) if (!p.getFileName().toString().startsWith(".")) ids.add(p.getFileName().toString());
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new StorageException("list quotas", layout.quotas().toString(), e.toString(), e);
        }
        if (ids.isEmpty()) return;
        Map<Long, Long> limits = new HashMap<>();
        try {
            for (Qgroups.Qgroup q : Qgroups.list(layout.home())) limits.put(q.id(), q.maxReferenced());
        } catch (SyscallException e) {
            if (e.is(Errno.EPERM)) return; // rootless: the quota tree is root's to read, and its limits root's to set
            throw e;
        }
        for (String id : ids) {
            Path layer = layerOf.apply(id);
            Optional<Long> size = recorded(id);
            if (size.isEmpty() || size.get() < options.minSpace() || !LayerVolumes.isSubvolume(layer)) continue;
            if (size.get().equals(limits.get(Subvolumes.id(layer)))) continue;
            enable();
            Qgroups.limit(layer, size.get());
        }
    }

    void forget(String id) {
        PosixFiles.unlinkIfExists(layout.quota(id));
    }

    /** Deletes the recorded limits of ids that fail {@code keep}; one readdir when no layer has a limit. */
    void retainOnly(java.util.function.Predicate<String> keep) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.quotas())) {
            for (Path p : ds) {
                String id = p.getFileName().toString();
                if (!id.startsWith(".") && !keep.test(id)) PosixFiles.unlinkIfExists(p);
            }
        } catch (NoSuchFileException e) {
            // no limits
        } catch (IOException e) {
            throw new StorageException("sweep quotas", layout.quotas().toString(), e.toString(), e);
        }
    }

    /** Removes the qgroups of destroyed subvolumes, or keeps their ids to try again. */
    void release(List<Long> subvolumeIds) {
        if (subvolumeIds.isEmpty() || !on()) return;
        for (long id : subvolumeIds) {
            if (!tryRemove(id)) {
                try {
                    Files.createDirectories(pending);
                    Files.writeString(pending.resolve(Long.toString(id)), "");
                } catch (IOException e) {
                    throw new StorageException("remember qgroup", pending.resolve(Long.toString(id)).toString(), e.toString(), e);
                }
            }
        }
        releasePending();
    }

    /** Tries the ids kept by earlier removes again; one readdir when there are none. */
    void releasePending() {
        if (!Files.isDirectory(pending)) return;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(pending)) {
            for (Path p : ds) {
                long id;
                try {
                    id = Long.parseLong(p.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (tryRemove(id)) Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new StorageException("release qgroups", pending.toString(), e.toString(), e);
        }
    }

    /** True when the qgroup is gone (removed now, or already: quotas off, or the kernel removed it). */
    private boolean tryRemove(long subvolumeId) {
        try {
            Qgroups.remove(layout.home(), subvolumeId);
            return true;
        } catch (SyscallException e) {
            if (e.is(Errno.ENOENT) || e.is(ENOTCONN) || e.is(Errno.EINVAL)) return true; // no such qgroup, or quotas off
            if (e.is(Errno.EBUSY) || e.is(Errno.EPERM)) return false; // still being dropped; or rootless: later, by root
            throw e;
        }
    }

    /**
     * Whether quotas are on; false where this process may not look (rootless: the quota tree needs CAP_SYS_ADMIN).
     * Off is asked again at most once a second (moby asks once per process): every remove asks, and with quotas off
     * the answer is a failed tree search. So a remove in the second after another process turned quotas on may
     * leave its qgroup, which the kernel removes by itself since Linux 6.8 (and which takes no space).
     */
    boolean on() {
        if (knownOn) return true;
        long now = System.nanoTime();
        if (now - offUntil < 0) return false;
        try {
            knownOn = Qgroups.status(layout.home()).map(Qgroups.Status::on).orElse(false);
        } catch (SyscallException e) {
            if (!e.is(Errno.EPERM)) throw e;
            knownOn = false;
        }
        if (!knownOn) offUntil = now + 1_000_000_000L;
        return knownOn;
    }

    private void enable() {
        if (on()) return;
        try {
            Qgroups.enable(layout.home());
        } catch (SyscallException e) {
            throw new StorageException("enable quotas", layout.home().toString(), "btrfs quotas cannot be turned on: " + e.getMessage(), e);
        }
        knownOn = true;
    }

    /** For status(): whether limits work, and the defaults. */
    String describe() {
        boolean on = on();
        String s = on ? "qgroups on" : "qgroups off (turned on by the first layer given a size)";
        if (options.defaultSize() > 0) s += ", default " + Sizes.human(options.defaultSize());
        if (options.minSpace() > 0) s += ", min " + Sizes.human(options.minSpace());
        return s;
    }
}
