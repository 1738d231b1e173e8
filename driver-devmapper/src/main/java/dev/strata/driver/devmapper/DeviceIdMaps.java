package dev.strata.driver.devmapper;

import dev.strata.api.IdMaps;
import dev.strata.api.IdTranslation;
import dev.strata.api.StorageException;
import dev.strata.api.Support;
import dev.strata.kit.LayerIdMaps;
import dev.strata.kit.OwnerShift;
import dev.strata.nativeio.IdmapProbe;
import dev.strata.nativeio.MountTree;
import dev.strata.nativeio.UserNamespace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How devmapper shows a layer made with id maps. A layer is a thin snapshot of its parent, one filesystem, so its
 * files keep the ids they are stored with and the view is made at the mount:
 * <ul>
 *   <li>where this kernel can idmap the pool's filesystem (ext4 and xfs from Linux 5.12), the layer's
 *   {@code rootfs} is covered by an idmapped clone of itself: nothing is copied, and what the container writes is
 *   stored with container ids, like the image under it;</li>
 *   <li>elsewhere, moby's chown copy: the new snapshot's owners are shifted in place before the layer exists
 *   ({@link OwnerShift}), and the layer then stores host ids.</li>
 * </ul>
 * Which ids a layer's files are stored with is recorded for the shifted ones only ({@code <home>/shifted/<id>});
 * a layer without a record stores container ids. The mount shows it the way the kit recorded it was made.
 */
final class DeviceIdMaps {
    private static final String UIDS = "uids ", GIDS = "gids ";

    private final Path records;
    private volatile LayerIdMaps made;
    private volatile Support idmappable;

    DeviceIdMaps(Path home) {
        this.records = home.resolve("shifted");
    }

    void attach(LayerIdMaps made) {
        this.made = made;
    }

    /** The maps {@code id} was made with, as the kit recorded them. */
    IdMaps made(String id) {
        LayerIdMaps m = made;
        return m == null || !m.inChain(id) ? IdMaps.NONE : m.of(id);
    }

    /** The maps the files of {@code id} are stored with: host ids after a chown copy, else container ids. */
    IdMaps stored(String id) {
        try {
            String text = Files.readString(records.resolve(id), StandardCharsets.UTF_8);
            String uids = "", gids = "";
            for (String line : text.split("\n")) {
                if (line.startsWith(UIDS)) uids = line.substring(UIDS.length());
                else if (line.startsWith(GIDS)) gids = line.substring(GIDS.length());
            }
            return IdMaps.parse(uids, gids);
        } catch (NoSuchFileException e) {
            return IdMaps.NONE;
        } catch (IOException e) {
            throw new StorageException("idMaps", records.resolve(id), e.toString(), e);
        }
    }

    /**
     * Before a new layer's commit point: what its snapshot of {@code parent} must become for {@code maps}. Its files
     * are stored as the parent's; when the kernel cannot idmap them into the layer's view, they are shifted here,
     * on the snapshot mounted at {@code rootfs} ({@code mount} mounts it, and returns that rootfs).
     *
     * @return true when the snapshot was mounted and must be unmounted
     */
    boolean prepare(String id, String parent, IdMaps maps, java.util.function.Supplier<Path> mount) {
        IdMaps from = parent == null ? IdMaps.NONE : stored(parent);
        IdTranslation t = new IdTranslation(from, maps);
        if (t.isIdentity()) {
            record(id, from);
            return false;
        }
        Path rootfs = mount.get();
        if (idmappable(rootfs).supported()) {
            record(id, from);
        } else {
            OwnerShift.shift(rootfs, t);
            record(id, maps);
        }
        return true;
    }

    /** Probed once, on a mounted layer of the pool: can this kernel idmap its filesystem? */
    private Support idmappable(Path mounted) {
        Support s = idmappable;
        if (s == null) idmappable = s = IdmapProbe.idmappedMounts(mounted);
        return s;
    }

    static final Support UNPROBED = Support.yes("idmapped mounts where this kernel can idmap the pool's filesystem, else a chown copy of each mapped layer");

    Support support() {
        Support s = idmappable;
        if (s == null) return UNPROBED;
        return s.supported() ? Support.yes("idmapped mounts (" + s.reason() + ")")
                : Support.yes("chown copy of each mapped layer's snapshot (" + s.reason() + ")");
    }

    /** After the layer's filesystem is mounted: covers {@code rootfs} with the layer's view when it needs one. */
    void show(String id, Path rootfs) {
        IdTranslation t = new IdTranslation(stored(id), made(id));
        if (t.isIdentity()) return;
        try (UserNamespace ns = UserNamespace.create(t.uidMapLines(), t.gidMapLines());
             MountTree tree = MountTree.cloneOf(rootfs)) {
            tree.idmap(ns).attach(rootfs);
        }
    }

    /** How {@code id} is shown: stored as it is made (shifted, it or an ancestor), or idmapped at its mount. */
    String method(String id) {
        return new IdTranslation(stored(id), made(id)).isIdentity() ? "chown copy" : "idmapped mount";
    }

    /** How a tar's container ids are written into {@code id}: as its files are stored. */
    IdTranslation applied(String id) {
        return IdTranslation.toHost(stored(id));
    }

    private void record(String id, IdMaps stored) {
        if (stored.isNone()) return;
        try {
            Files.createDirectories(records);
            Files.writeString(records.resolve(id), UIDS + stored.uidSpec() + "\n" + GIDS + stored.gidSpec() + "\n");
        } catch (IOException e) {
            throw new StorageException("create", records.resolve(id), e.toString(), e);
        }
    }

    /** The ids with a record, in no particular order. */
    List<String> recorded() {
        List<String> ids = new ArrayList<>();
        try (var ds = Files.newDirectoryStream(records)) {
            for (Path p : ds) ids.add(p.getFileName().toString());
        } catch (java.nio.file.NoSuchFileException none) {
            return ids;
        } catch (IOException e) {
            throw new StorageException("recover", records, e.toString(), e);
        }
        return ids;
    }

    void forget(String id) {
        try {
            Files.deleteIfExists(records.resolve(id));
        } catch (IOException e) {
            throw new StorageException("remove", records.resolve(id), e.toString(), e);
        }
    }
}
