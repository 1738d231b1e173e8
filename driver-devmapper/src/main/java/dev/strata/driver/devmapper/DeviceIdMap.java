package dev.strata.driver.devmapper;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Thin device ids in use, one bit per id of the pool's 24-bit space, persisted in a sparse 2 MiB file
 * ({@code metadata/.device-id-map}; moby skips dot files). A bit is set and synced <em>before</em> the pool is
 * asked to create that id, and cleared only after the pool deleted it, so after any crash every id the pool may
 * hold has its bit set: start-up deletes those that no device file owns, and no thin device leaks.
 */
final class DeviceIdMap implements AutoCloseable {
    static final int MAX_ID = 0xffffff;
    static final String FILE = ".device-id-map";
    private static final int BYTES = (MAX_ID + 1) / 8;

    private final FileChannel ch;
    private final Path path;

    DeviceIdMap(Path path) {
        this.path = path;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            if (ch.size() < BYTES) ch.truncate(BYTES).write(ByteBuffer.allocate(1), BYTES - 1);
        } catch (IOException e) {
            throw new StorageException("open", path.toString(), e.toString(), e);
        }
    }

    boolean isUsed(int id) {
        return (readByte(id >>> 3) & (1 << (id & 7))) != 0;
    }

    /** Sets the bit and syncs it to disk before returning. */
    void markUsed(int id) {
        set(id, true);
    }

    /** Clears the bit and syncs. */
    void markFree(int id) {
        set(id, false);
    }

    /** The first unused id after {@code after}, wrapping around; id 0 is never handed out (as in moby). */
    int findFree(int after) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        int id = (after + 1) & MAX_ID;
        for (long scanned = 0; scanned <= MAX_ID; ) {
            int byteIndex = id >>> 3;
            buf.clear();
            read(buf, byteIndex);
            for (int i = 0; i < buf.limit() && scanned <= MAX_ID; i++) {
                int b = buf.get(i);
                for (int bit = (i == 0 ? id & 7 : 0); bit < 8; bit++, scanned++) {
                    int candidate = ((byteIndex + i) << 3) | bit;
                    if (candidate != 0 && (b & (1 << bit)) == 0) return candidate;
                }
            }
            id = ((byteIndex + buf.limit()) << 3) & MAX_ID;
        }
        throw new StorageException("allocate device id", path.toString(), "devmapper: Unable to find a free device ID");
    }

    /** Every id whose bit is set. */
    List<Integer> used() {
        List<Integer> out = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        for (int pos = 0; pos < BYTES; pos += buf.capacity()) {
            buf.clear();
            read(buf, pos);
            for (int i = 0; i < buf.limit(); i++) {
                int b = buf.get(i) & 0xff;
                if (b == 0) continue;
                for (int bit = 0; bit < 8; bit++) if ((b & (1 << bit)) != 0) out.add(((pos + i) << 3) | bit);
            }
        }
        return out;
    }

    private void set(int id, boolean used) {
        if (id < 0 || id > MAX_ID) throw new IllegalArgumentException("device id " + id + " is outside 0.." + MAX_ID);
        int index = id >>> 3;
        int b = readByte(index);
        int nb = used ? b | (1 << (id & 7)) : b & ~(1 << (id & 7));
        if (nb == b) return;
        try {
            ch.write(ByteBuffer.wrap(new byte[]{(byte) nb}), index);
            ch.force(false);
        } catch (IOException e) {
            throw new StorageException("write", path.toString(), e.toString(), e);
        }
    }

    private int readByte(int index) {
        ByteBuffer b = ByteBuffer.allocate(1);
        read(b, index);
        return b.get(0);
    }

    private void read(ByteBuffer buf, long pos) {
        try {
            int limit = (int) Math.min(buf.remaining(), BYTES - pos);
            buf.limit(limit);
            while (buf.hasRemaining()) {
                if (ch.read(buf, pos + buf.position()) < 0) break;
            }
            buf.flip();
        } catch (IOException e) {
            throw new StorageException("read", path.toString(), e.toString(), e);
        }
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-write channel: every change was already forced
        }
    }
}
