package dev.strata.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Marks for layers whose create or apply has not finished. A driver marks a layer before it starts writing it
 * and clears the mark when done; a mark found at start means a crash or a kill in between, and the driver removes
 * that layer. {@code exists} never reports a marked layer.
 */
public final class IncompleteLayers {
    private final Path dir;

    /** @param dir where marks live, e.g. {@code <home>/.incomplete} */
    public IncompleteLayers(Path dir) {
        this.dir = dir;
    }

    /** Marks {@code id} durably (the mark survives a crash right after this returns). */
    public void mark(String id) {
        try {
            Files.createDirectories(dir);
            try {
                Files.createFile(dir.resolve(id));
            } catch (FileAlreadyExistsException ignored) {
                // already marked
            }
            AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw new StorageException("mark incomplete", id, e.toString(), e);
        }
    }

    /** Clears the mark durably. */
    public void clear(String id) {
        try {
            if (Files.deleteIfExists(dir.resolve(id))) AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw new StorageException("clear incomplete", id, e.toString(), e);
        }
    }

    public boolean isIncomplete(String id) {
        return Files.exists(dir.resolve(id));
    }

    /** Every marked id. */
    public List<String> list() {
        List<String> ids = new ArrayList<>();
        if (!Files.isDirectory(dir)) return ids;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.startsWith(".")) ids.add(name);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ids;
    }
}
