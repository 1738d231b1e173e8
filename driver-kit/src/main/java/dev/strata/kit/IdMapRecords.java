package dev.strata.kit;

import dev.strata.nativeio.PosixFiles;
import dev.strata.api.IdMaps;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The id maps each layer was made with, one small file per layer in {@code <home>/.strata/idmaps}: the layer's own
 * maps (empty when it has none), for every layer that has maps or has an ancestor with maps. So a layer without a
 * record has none in its whole chain, and a mount of it costs one failed lookup, not one per lower.
 *
 * <p>A record is written before the storage makes the layer (a create that does not finish is undone with it) and
 * removed after the storage removed the layer. It never changes while the layer exists.
 */
final class IdMapRecords implements LayerIdMaps {
    private static final String UIDS = "uids ", GIDS = "gids ";

    private final Path dir;
    private volatile boolean dirSeen;

    IdMapRecords(Path dir) {
        this.dir = dir;
    }

    @Override
    public IdMaps of(String id) {
        String text = read(id);
        if (text == null) return IdMaps.NONE;
        String uids = "", gids = "";
        for (String line : text.split("\n")) {
            if (line.startsWith(UIDS)) uids = line.substring(UIDS.length());
            else if (line.startsWith(GIDS)) gids = line.substring(GIDS.length());
        }
        return IdMaps.parse(uids, gids);
    }

    @Override
    public boolean inChain(String id) {
        return Files.exists(dir.resolve(id));
    }

    /**
     * Records {@code maps} for a new layer {@code id} on {@code parent}, if it or its chain has maps; else drops a
     * record a create of the same id left when it was killed before the layer was made (a quick create has no mark).
     */
    void record(String id, String parent, IdMaps maps) {
        if (maps.isNone() && !dirMade()) return; // no record anywhere: nothing to inherit, none left to drop
        if (maps.isNone() && (parent == null || !inChain(parent))) {
            forget(id);
            return;
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException("create", dir, e.toString(), e);
        }
        AtomicFiles.write(dir.resolve(id), UIDS + maps.uidSpec() + "\n" + GIDS + maps.gidSpec() + "\n");
    }

    /**
     * Whether the records' directory exists: one statx until it is seen, then none (it is made by the first record
     * and never deleted), so a home that never had id maps pays one call a create for them.
     */
    private boolean dirMade() {
        if (dirSeen) return true;
        return dirSeen = LockFiles.exists(dir);
    }

    /** One unlink; no record (the usual case) costs no exception. */
    void forget(String id) {
        PosixFiles.unlinkIfExists(dir.resolve(id));
    }

    private String read(String id) {
        try {
            return Files.readString(dir.resolve(id), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StorageException("idMaps", dir.resolve(id), e.toString(), e);
        }
    }
}
