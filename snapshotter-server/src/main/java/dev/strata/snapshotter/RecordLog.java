package dev.strata.snapshotter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.kit.AtomicFiles;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The records on disk, crash-safe at one {@code fdatasync} per change (a file per record, written whole and renamed,
 * cost four times that): a {@code checkpoint} of every record, written whole and renamed into place, and a
 * {@code journal} of the changes since, one line each ({@code JSON TAB CRC32C}), synced before the call returns.
 *
 * <p>The journal is written in place over zeros laid down ahead of it, so a sync flushes data, not the file's size.
 * Loading replays the journal over the checkpoint and stops at the first line that is not whole (a write cut short
 * by a crash), which is then zeroed. Replaying a journal that a checkpoint already holds changes nothing (each line
 * sets or deletes one record), so the checkpoint can be written before the journal is reset.
 */
final class RecordLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 1 << 20;
    private static final int COMPACT_AFTER = 4096;

    private final Path checkpoint;
    private final FileChannel journal;
    private final Map<String, SnapshotRecord> live = new HashMap<>();
    private long position;
    private long size;
    private int lines;

    RecordLog(Path dir) {
        this.checkpoint = dir.resolve("checkpoint.json");
        try {
            Files.createDirectories(dir);
            this.journal = FileChannel.open(dir.resolve("journal"), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            load();
        } catch (IOException e) {
            throw new StorageException("open", dir, e.toString(), e);
        }
    }

    /** Every record, as the last change left it. */
    synchronized Collection<SnapshotRecord> records() {
        return new ArrayList<>(live.values());
    }

    synchronized void put(SnapshotRecord r) {
        ObjectNode n = JSON.createObjectNode();
        n.set("put", toJson(r));
        append(n);
        live.put(r.id(), r);
    }

    synchronized void delete(String id) {
        ObjectNode n = JSON.createObjectNode();
        n.put("delete", id);
        append(n);
        live.remove(id);
    }

    private void append(ObjectNode change) {
        try {
            byte[] json = JSON.writeValueAsBytes(change);
            CRC32C crc = new CRC32C();
            crc.update(json);
            byte[] line = (new String(json, StandardCharsets.UTF_8) + "\t" + Long.toHexString(crc.getValue()) + "\n").getBytes(StandardCharsets.UTF_8);
            if (lines >= COMPACT_AFTER && lines > 2 * live.size()) compact();
            if (position + line.length > size) grow(line.length);
            writeFully(ByteBuffer.wrap(line), position);
            journal.force(false);
            position += line.length;
            lines++;
        } catch (IOException e) {
            throw new StorageException("write", checkpoint.resolveSibling("journal"), e.toString(), e);
        }
    }

    /** Zeros ahead of the writes, synced with the file's new size once per chunk. */
    private void grow(int atLeast) throws IOException {
        long newSize = size + Math.max(CHUNK, atLeast);
        zero(size, newSize);
        journal.force(true);
        size = newSize;
    }

    /** Writes every record to the checkpoint, then starts the journal afresh. */
    private void compact() throws IOException {
        ArrayNode all = JSON.createArrayNode();
        for (SnapshotRecord r : live.values()) all.add(toJson(r));
        AtomicFiles.write(checkpoint, JSON.writeValueAsBytes(all));
        zero(0, position);
        journal.force(false);
        position = 0;
        lines = 0;
    }

    private void load() throws IOException {
        if (Files.exists(checkpoint)) {
            for (JsonNode n : JSON.readTree(Files.readAllBytes(checkpoint))) {
                SnapshotRecord r = fromJson(n);
                live.put(r.id(), r);
            }
        }
        size = journal.size();
        ByteBuffer all = ByteBuffer.allocate((int) size);
        while (all.hasRemaining() && journal.read(all, all.position()) > 0) { }
        byte[] b = all.array();
        int p = 0;
        while (p < b.length && b[p] != 0) {
            int nl = p;
            while (nl < b.length && b[nl] != '\n') nl++;
            if (nl == b.length || !replay(new String(b, p, nl - p, StandardCharsets.UTF_8))) break;
            p = nl + 1;
            lines++;
        }
        position = p;
        if (p < b.length) { // a line cut short, or the zeros ahead: make sure nothing but zeros follows
            zero(p, size);
            journal.force(false);
        }
    }

    /** Applies one journal line; false if it is not whole. */
    private boolean replay(String line) {
        int tab = line.lastIndexOf('\t');
        if (tab < 0) return false;
        byte[] json = line.substring(0, tab).getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(json);
        if (!Long.toHexString(crc.getValue()).equals(line.substring(tab + 1))) return false;
        try {
            JsonNode n = JSON.readTree(json);
            if (n.has("put")) {
                SnapshotRecord r = fromJson(n.get("put"));
                live.put(r.id(), r);
            } else {
                live.remove(n.get("delete").asText());
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void zero(long from, long to) throws IOException {
        ByteBuffer z = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(0, to - from)));
        for (long at = from; at < to; at += z.capacity()) {
            z.clear().limit((int) Math.min(z.capacity(), to - at));
            writeFully(z, at);
        }
    }

    private void writeFully(ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) at += journal.write(b, at);
    }

    private static ObjectNode toJson(SnapshotRecord r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", r.id());
        n.put("kind", r.kind().name());
        n.put("name", r.name());
        if (r.parentId() != null) n.put("parent", r.parentId());
        if (r.layer() != null) n.put("layer", r.layer());
        ObjectNode labels = n.putObject("labels");
        r.labels().forEach(labels::put);
        n.put("created", r.created().toString());
        n.put("updated", r.updated().toString());
        n.put("size", r.usage().size());
        n.put("inodes", r.usage().inodes());
        return n;
    }

    private static SnapshotRecord fromJson(JsonNode n) {
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

    @Override
    public synchronized void close() {
        try {
            journal.close();
        } catch (IOException ignored) {
            // every change was synced when it was made
        }
    }
}
