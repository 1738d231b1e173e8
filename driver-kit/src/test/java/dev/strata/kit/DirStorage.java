package dev.strata.kit;

import dev.strata.api.Capabilities;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageException;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The test storage of the kit and of the conformance suite's own tests (driver-kit's test-jar holds it),
 * and the smallest complete storage on the kit: {@code dir/<id>} a full copy of the parent, {@code rec/<id>} the
 * parent (written last: the commit point). {@link #failRemoveAfterRecord} and {@link #failCreateBeforeRecord} inject
 * the failures the kit must make all or nothing.
 */
public class DirStorage implements DirectoryStorage {
    final Path home;
    volatile boolean failRemoveAfterRecord;
    volatile boolean failCreateBeforeRecord;

    public DirStorage(Path home) {
        this.home = home;
        try {
            Files.createDirectories(home.resolve("dir"));
            Files.createDirectories(home.resolve("rec"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path dir(String id) {
        return home.resolve("dir").resolve(id);
    }

    private Path rec(String id) {
        return home.resolve("rec").resolve(id);
    }

    @Override
    public String name() {
        return "dirs";
    }

    @Override
    public Path home() {
        return home;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, false);
    }

    @Override
    public List<StatusEntry> status() {
        return List.of();
    }

    @Override
    public boolean exists(String id) {
        return PosixFiles.lexists(rec(id));
    }

    @Override
    public String parent(String id) {
        try {
            String p = Files.readString(rec(id));
            return p.isEmpty() ? null : p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<String> layers() {
        try (Stream<Path> s = Files.list(home.resolve("rec"))) {
            return s.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void create(NewLayer layer) {
        Path d = dir(layer.id());
        Trees.delete(d);
        try {
            Files.createDirectory(d);
            if (layer.parent() != null) new TreeCopier(TreeCopier.Method.COPY_FILE_RANGE).copy(dir(layer.parent()), d);
            if (failCreateBeforeRecord) throw new StorageException("create", layer.id(), "injected failure");
            Files.writeString(rec(layer.id()), layer.parent() == null ? "" : layer.parent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void remove(String id) {
        try {
            Files.deleteIfExists(rec(id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (failRemoveAfterRecord) throw new StorageException("remove", id, "injected failure");
        Trees.delete(dir(id));
    }

    /** A {@code dir/<id>} without its record: a create cut short; and an apply's staging ({@link LayerDirectories}). */
    @Override
    public List<String> cutShort() {
        try (Stream<Path> s = Files.list(home.resolve("dir"))) {
            List<String> ids = new java.util.ArrayList<>(s.map(p -> p.getFileName().toString()).filter(id -> !id.startsWith(".") && !exists(id)).toList());
            ids.addAll(new LayerDirectories(home.resolve("dir")).cutShort());
            return ids;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Map<String, String> metadata(String id) {
        return Map.of("Dir", dir(id).toString());
    }

    @Override
    public Path root(String id) {
        return dir(id);
    }

    @Override
    public StagedApply stageApply(String id, String parent) {
        return DirectoryStaging.stage(dir(id), staging(id), ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
    }

    @Override
    public void discardStaged(String id) {
        DirectoryStaging.discard(dir(id), staging(id));
    }

    Path staging(String id) {
        return home.resolve("dir").resolve(".apply-" + id);
    }

    static boolean gone(Path p) {
        try {
            PosixFiles.lstat(p);
            return false;
        } catch (RuntimeException e) {
            return true;
        }
    }

    static void deleteIfExists(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (NoSuchFileException ignored) {
            // gone
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
