package dev.strata.kit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RefCountsTest {
    @TempDir
    Path dir;

    @Test
    void sixteenThreadsMountOnceAndUnmountOnce() throws Exception {
        ConcurrentHashMap.KeySetView<String, Boolean> mounted = ConcurrentHashMap.newKeySet();
        AtomicInteger mounts = new AtomicInteger();
        AtomicInteger unmounts = new AtomicInteger();
        RefCounts refs = new RefCounts(dir, mounted::contains);
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                fs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 50; i++) {
                        refs.acquire("l1", () -> {
                            if (!mounted.add("l1")) throw new IllegalStateException("mounted twice");
                            mounts.incrementAndGet();
                        });
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) f.get();
        }
        assertEquals(1, mounts.get());
        assertEquals(800, refs.count("l1"));
        for (int i = 0; i < 800; i++) {
            refs.release("l1", () -> {
                mounted.remove("l1");
                unmounts.incrementAndGet();
            });
        }
        assertEquals(1, unmounts.get());
        assertEquals(0, refs.count("l1"));
    }

    @Test
    void countsSurviveANewInstanceAndAreReconciledWithTheMountTable() {
        ConcurrentHashMap.KeySetView<String, Boolean> mounted = ConcurrentHashMap.newKeySet();
        RefCounts first = new RefCounts(dir, mounted::contains);
        first.acquire("a", () -> mounted.add("a"));
        first.acquire("a", () -> {
            throw new AssertionError("second get must not mount");
        });
        RefCounts restarted = new RefCounts(dir, mounted::contains);
        assertEquals(2, restarted.count("a"));

        mounted.clear(); // a reboot: the mount is gone, the count file is not
        assertEquals(0, restarted.count("a"));
        AtomicInteger mounts = new AtomicInteger();
        assertEquals(1, restarted.acquire("a", () -> {
            mounts.incrementAndGet();
            mounted.add("a");
        }));
        assertEquals(1, mounts.get());
    }

    @Test
    void aFailedMountLeavesNoReference() {
        RefCounts refs = new RefCounts(dir, id -> false);
        assertThrows(IllegalStateException.class, () -> refs.acquire("x", () -> {
            throw new IllegalStateException("mount failed");
        }));
        assertEquals(0, refs.count("x"));
    }

    @Test
    void anUncountedMountIsAdoptedNotMountedTwice() {
        RefCounts refs = new RefCounts(dir, id -> true);
        assertEquals(1, refs.acquire("y", () -> {
            throw new AssertionError("already mounted: must not mount again");
        }));
    }

    @Test
    void forgetDropsTheCount() {
        RefCounts refs = new RefCounts(dir, null);
        refs.acquire("z", () -> { });
        refs.withLock("z", () -> {
            refs.forget("z");
            return null;
        });
        assertEquals(0, refs.count("z"));
    }
}
