package dev.strata.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.api.AtomicFiles;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The records on disk: {@code <dir>/<id>.json}, each written whole to a temporary sibling, synced and renamed into
 * place ({@link AtomicFiles}), so a crash leaves the old record or the new one. A temporary file left by a crash is
 * removed when the records are loaded.
 */
final class RecordFiles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SUFFIX = ".json";

    private final Path dir;

    RecordFiles(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException("open", dir, e.toString(), e);
        }
    }

    List<SnapshotRecord> loadAll() {
        List<SnapshotRecord> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                if (f.startsWith(".")) {
                    Files.deleteIfExists(p); // a write that did not finish: the record it replaced is still there
                } else if (f.endsWith(SUFFIX)) {
                    out.add(read(p));
                }
            }
        } catch (IOException e) {
            throw new StorageException("load", dir, e.toString(), e);
        }
        return out;
    }

    void write(SnapshotRecord r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", r.id());
        n.put("kind", r.kind().name());
        n.put("name", r.name());
        if (r.parentId() != null) n.put("parent", r.parentId());
        if (r.layer() != null) n.put("layer", r.layer());
        ObjectNode labels = n.putObject("labels");
        r.labels().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> labels.put(e.getKey(), e.getValue()));
        n.put("created", r.created().toString());
        n.put("updated", r.updated().toString());
        n.put("size", r.usage().size());
        n.put("inodes", r.usage().inodes());
        try {
            AtomicFiles.write(path(r.id()), JSON.writeValueAsBytes(n));
        } catch (IOException e) {
            throw new StorageException("write", path(r.id()), e.toString(), e);
        }
    }

    void delete(String id) {
        try {
            Files.deleteIfExists(path(id));
            AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw new StorageException("delete", path(id), e.toString(), e);
        }
    }

    private Path path(String id) {
        return dir.resolve(id + SUFFIX);
    }

    private static SnapshotRecord read(Path p) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(Files.readAllBytes(p));
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new StorageException("load", p, "not a snapshot record: " + e.getMessage(), e);
        }
        Map<String, String> labels = new LinkedHashMap<>();
        n.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        return new SnapshotRecord(n.get("id").asText(), Kind.valueOf(n.get("kind").asText()), n.get("name").asText(),
                text(n, "parent"), text(n, "layer"), labels, Instant.parse(n.get("created").asText()),
                Instant.parse(n.get("updated").asText()), new Usage(n.path("size").asLong(), n.path("inodes").asLong()));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
