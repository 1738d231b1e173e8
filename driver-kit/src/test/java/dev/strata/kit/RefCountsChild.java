package dev.strata.kit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The second process of {@link RefCountsProcessTest}: counts one id in {@code DIR} whose "mount" is a marker file
 * made with O_EXCL, so a second mount fails loudly.
 *
 * <p>Usage: {@code RefCountsChild DIR ID race N | hang-mount | hang-unmount}
 */
public final class RefCountsChild {
    static final String READY = "READY", DONE = "DONE";

    private RefCountsChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String id = args[1];
        RefCounts refs = counts(dir);
        switch (args[2]) {
            case "race" -> {
                race(refs, dir, id, Integer.parseInt(args[3]));
                for (int i = 0; i < 7; i++) get(refs, dir, id); // left counted at exit, as the CLI's get leaves them
                System.out.println(DONE);
            }
            case "hang-mount" -> refs.acquire(id, () -> {
                mount(dir, id);
                hang();
            });
            case "hang-unmount" -> {
                get(refs, dir, id);
                refs.release(id, () -> {
                    unmount(dir, id);
                    hang();
                });
            }
            default -> throw new IllegalArgumentException(args[2]);
        }
        System.out.flush();
    }

    /** Counts with a marker file for a mount, and the fast paths on (the layer "needs a mount"). */
    static RefCounts counts(Path dir) {
        return new RefCounts(dir, id -> Files.exists(marker(dir, id)), id -> new RefCounts.Layer(dir.resolve("root-" + id), true));
    }

    /** Gets and puts in a pattern that takes both the paths without the lock and the mounts and unmounts. */
    static void race(RefCounts refs, Path dir, String id, int n) {
        for (int i = 0; i < n; i++) {
            get(refs, dir, id);
            get(refs, dir, id);
            put(refs, dir, id);
            put(refs, dir, id);
        }
    }

    static void get(RefCounts refs, Path dir, String id) {
        if (refs.tryAcquire(id) == null) refs.acquire(id, () -> mount(dir, id));
    }

    static void put(RefCounts refs, Path dir, String id) {
        if (!refs.tryRelease(id)) refs.release(id, () -> unmount(dir, id));
    }

    static Path marker(Path dir, String id) {
        return dir.resolve("mounted-" + id);
    }

    static void mount(Path dir, String id) {
        try {
            Files.createFile(marker(dir, id));
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("mounted twice: " + id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void unmount(Path dir, String id) {
        try {
            Files.deleteIfExists(marker(dir, id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void hang() {
        System.out.println(READY);
        System.out.flush();
        try {
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
