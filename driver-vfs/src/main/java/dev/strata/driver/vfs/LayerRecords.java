package dev.strata.driver.vfs;

import dev.strata.api.StorageException;
import dev.strata.kit.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What vfs knows of each layer beyond its directory: its parent and whether it is read-write. One small text
 * file per layer ({@code parent=...}, {@code rw=...}), written atomically; its presence is what makes a layer
 * complete.
 */
final class LayerRecords {
    record Record(String id, String parent, boolean readWrite) {
    }

    private final Path dir;

    LayerRecords(Path dir) {
        this.dir = dir;
    }

    void write(Record r) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException("create", dir.toString(), e.toString(), e);
        }
        AtomicFiles.write(dir.resolve(r.id()), "parent=" + (r.parent() == null ? "" : r.parent()) + "\nrw=" + r.readWrite() + "\n");
    }

    /** The record, or null if the layer has none (never made, or not finished). */
    Record read(String id) {
        try {
            String parent = null;
            boolean rw = false;
            // a few bytes: one read and a split, not readAllLines's decoder and buffered reader (layers reads them all)
            for (String line : new String(Files.readAllBytes(dir.resolve(id)), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("parent=")) parent = line.substring(7).isEmpty() ? null : line.substring(7);
                else if (line.startsWith("rw=")) rw = Boolean.parseBoolean(line.substring(3));
            }
            return new Record(id, parent, rw);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StorageException("read layer record", dir.resolve(id).toString(), e.toString(), e);
        }
    }

    /** Whether the layer has a record; a missing one is false, any other error throws. */
    boolean has(String id) {
        return dev.strata.nativeio.PosixFiles.lexists(dir.resolve(id));
    }

    /** The number of records, without reading them. */
    int count() {
        if (!Files.isDirectory(dir)) return 0;
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return (int) s.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        } catch (IOException e) {
            throw new StorageException("list layers", dir.toString(), e.toString(), e);
        }
    }

    void delete(String id) {
        try {
            Files.deleteIfExists(dir.resolve(id));
        } catch (IOException e) {
            throw new StorageException("remove layer record", dir.resolve(id).toString(), e.toString(), e);
        }
    }

    List<Record> all() {
        List<Record> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String id = p.getFileName().toString();
                if (id.startsWith(".")) continue; // temporary files of AtomicFiles
                Record r = read(id);
                if (r != null) out.add(r);
            }
        } catch (IOException e) {
            throw new StorageException("list layers", dir.toString(), e.toString(), e);
        }
        return out;
    }
}
