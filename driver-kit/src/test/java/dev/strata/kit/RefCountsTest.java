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

    /**
     * A count not trusted yet at 0 has the storage mount unless mounted in one step; a trusted 0 mounts without a
     * question, and a stale count above 0 is asked about, then mounted.
     */
    @Test
    void anUncheckedCountOfZeroMountsUnlessMountedInOneStep() {
        List<String> calls = new ArrayList<>();
        RefCounts refs = new RefCounts(dir, id -> calls.add("isMounted") && false);
        RefCounts.Action mount = () -> calls.add("mount"), unlessMounted = () -> calls.add("unlessMounted");
        assertEquals(1, refs.acquire("m", mount, unlessMounted)); // unmapped
        assertEquals(0, refs.release("m", () -> { }));
        assertEquals(1, refs.acquire("m", mount, unlessMounted)); // the third use maps it, not checked yet
        assertEquals(List.of("unlessMounted", "isMounted", "unlessMounted"), calls);
        assertEquals(0, refs.release("m", () -> { }));
        calls.clear();
        assertEquals(1, refs.acquire("m", mount, unlessMounted)); // mapped and checked: 0 is trusted
        assertEquals(List.of("mount"), calls);
        calls.clear();
        RefCounts other = new RefCounts(dir, id -> calls.add("isMounted") && false); // another process: 1 is stale
        assertEquals(1, other.acquire("m", mount, unlessMounted));
        assertEquals(List.of("isMounted", "mount"), calls);
    }

    /**
     * A count not trusted yet at its last reference has the storage unmount if mounted in one step; a trusted one
     * unmounts without a question, and a count not trusted above 1 is asked about.
     */
    @Test
    void anUncheckedLastReferenceUnmountsIfMountedInOneStep() {
        List<String> calls = new ArrayList<>();
        RefCounts refs = new RefCounts(dir, id -> calls.add("isMounted")); // always mounted
        RefCounts.Action unmount = () -> calls.add("unmount"), ifMounted = () -> calls.add("ifMounted");
        refs.acquire("r", () -> { });
        calls.clear();
        assertEquals(0, refs.release("r", () -> { }, unmount, ifMounted)); // unmapped
        assertEquals(List.of("ifMounted"), calls);
        refs.acquire("r", () -> { }); // the third use maps it, checked from then on
        refs.acquire("r", () -> { });
        calls.clear();
        assertEquals(1, refs.release("r", () -> { }, unmount, ifMounted));
        assertEquals(0, refs.release("r", () -> { }, unmount, ifMounted));
        assertEquals(List.of("unmount"), calls, "a trusted count: no question, the unmount at the last");
        RefCounts other = new RefCounts(dir, id -> calls.add("isMounted"));
        refs.acquire("r", () -> { });
        refs.acquire("r", () -> { });
        calls.clear();
        assertEquals(1, other.release("r", () -> { }, unmount, ifMounted)); // mapped by someone: other maps it, not checked
        assertEquals(0, other.release("r", () -> { }, unmount, ifMounted));
        assertEquals(List.of("isMounted", "unmount"), calls);
    }

    @Test
    void aCountUsedOnceOrTwiceIsReadAndWrittenNotMapped() throws Exception {
        RefCounts refs = new RefCounts(dir, id -> true, id -> new RefCounts.Layer(dir.resolve("u"), false));
        assertEquals(1, refs.acquire("u", () -> { }));
        assertEquals(0, refs.release("u", () -> { }));
        assertEquals(0, refs.count("u"));
        org.junit.jupiter.api.Assertions.assertFalse(refs.knows("u"), "not mapped after two uses");
        org.junit.jupiter.api.Assertions.assertFalse(java.nio.file.Files.exists(dir.resolve("u")), "a count of 0 is no file");
        refs.withLock("u", () -> {
            refs.forget("u");
            return null;
        });
        org.junit.jupiter.api.Assertions.assertFalse(java.nio.file.Files.exists(dir.resolve("u")));
    }

    @Test
    void aCountNobodyMapsIsKeptAsTheFileSizeWithoutData() throws Exception {
        RefCounts refs = new RefCounts(dir, id -> true, id -> new RefCounts.Layer(dir.resolve("s"), false));
        assertEquals(1, refs.acquire("s", () -> { }));
        Path file = dir.resolve("s");
        assertEquals(CountFile.SPARSE + 1, java.nio.file.Files.size(file));
        RefCounts other = new RefCounts(dir, id -> true, id -> new RefCounts.Layer(dir.resolve("s"), false));
        assertEquals(2, other.acquire("s", () -> { }), "another instance reads the size");
        assertEquals(2, refs.count("s"));
        assertEquals(1, other.release("s", () -> { }));
        assertEquals(0, refs.release("s", () -> { }));
        org.junit.jupiter.api.Assertions.assertFalse(java.nio.file.Files.exists(file), "a count of 0 is no file");
    }

    @Test
    void aHeldCountProvesTheLayerExistsForAPut() {
        RefCounts refs = new RefCounts(dir, id -> true, id -> new RefCounts.Layer(dir.resolve("p"), false));
        java.util.concurrent.atomic.AtomicInteger checks = new java.util.concurrent.atomic.AtomicInteger();
        Runnable check = checks::incrementAndGet;
        refs.acquire("p", () -> { });
        assertEquals(0, refs.release("p", check, () -> { }));
        assertEquals(0, checks.get(), "a count a get wrote: the layer is there");
        assertEquals(0, refs.release("p", check, () -> { }));
        assertEquals(1, checks.get(), "no count: the layer is checked");
        assertThrows(IllegalStateException.class, () -> refs.release("q", () -> {
            throw new IllegalStateException("no such layer");
        }, () -> { }));
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

    @Test
    void aCountWrittenAsTextByAnOlderStrataIsKept() throws Exception {
        java.nio.file.Files.writeString(dir.resolve("old"), "0000000003\n");
        RefCounts refs = new RefCounts(dir, id -> true);
        assertEquals(3, refs.count("old"));
        assertEquals(4, refs.acquire("old", () -> {
            throw new AssertionError("mounted already");
        }));
        assertEquals(16, java.nio.file.Files.size(dir.resolve("old")));
    }

    @Test
    void noPathWithoutTheLockBeforeTheCountIsChecked() {
        RefCounts refs = new RefCounts(dir, id -> true, id -> new RefCounts.Layer(dir.resolve("r"), false)); // needs no mount: always ready
        assertEquals(null, refs.tryAcquire("d"), "not known yet");
        assertEquals(1, refs.acquire("d", () -> { }));
        assertEquals(null, refs.tryAcquire("d"), "used once: read and written, not mapped yet");
        assertEquals(0, refs.release("d", () -> { }));
        assertEquals(1, refs.acquire("d", () -> { })); // the third use maps it
        assertEquals(dir.resolve("r"), refs.tryAcquire("d"), "a layer that needs no mount: counted without the lock");
        assertEquals(2, refs.count("d"));
        org.junit.jupiter.api.Assertions.assertTrue(refs.tryRelease("d"));
        org.junit.jupiter.api.Assertions.assertTrue(refs.tryRelease("d"));
        org.junit.jupiter.api.Assertions.assertTrue(refs.tryRelease("d"), "a put at 0 drops nothing");
        assertEquals(0, refs.count("d"));
    }

    @Test
    void aLayerThatNeedsAMountIsMountedAndUnmountedUnderTheLock() {
        ConcurrentHashMap.KeySetView<String, Boolean> mounted = ConcurrentHashMap.newKeySet();
        RefCounts refs = new RefCounts(dir, mounted::contains, id -> new RefCounts.Layer(dir.resolve("m"), true));
        assertEquals(1, refs.acquire("m", () -> mounted.add("m")));
        assertEquals(0, refs.release("m", () -> mounted.remove("m")));
        assertEquals(1, refs.acquire("m", () -> mounted.add("m"))); // the third use maps it
        assertEquals(dir.resolve("m"), refs.tryAcquire("m"), "mounted: a second get needs no lock");
        org.junit.jupiter.api.Assertions.assertTrue(refs.tryRelease("m"));
        org.junit.jupiter.api.Assertions.assertFalse(refs.tryRelease("m"), "the last put unmounts, under the lock");
        assertEquals(0, refs.release("m", () -> mounted.remove("m")));
        org.junit.jupiter.api.Assertions.assertTrue(mounted.isEmpty());
        assertEquals(null, refs.tryAcquire("m"), "the first get mounts, under the lock");
    }

    @Test
    void aForgottenCountSendsEveryInstanceToTheLock() {
        ConcurrentHashMap.KeySetView<String, Boolean> mounted = ConcurrentHashMap.newKeySet();
        RefCounts a = new RefCounts(dir, mounted::contains, id -> new RefCounts.Layer(dir.resolve("f"), true));
        RefCounts b = new RefCounts(dir, mounted::contains, id -> new RefCounts.Layer(dir.resolve("f"), true));
        a.acquire("f", () -> mounted.add("f"));
        a.release("f", () -> mounted.remove("f"));
        a.acquire("f", () -> mounted.add("f")); // mapped in a
        assertEquals(dir.resolve("f"), a.tryAcquire("f"));
        b.withLock("f", () -> {
            b.forget("f"); // a remove, in another process
            return null;
        });
        mounted.clear();
        assertEquals(null, a.tryAcquire("f"));
        org.junit.jupiter.api.Assertions.assertFalse(a.knows("f"));
        AtomicInteger mounts = new AtomicInteger();
        assertEquals(1, a.acquire("f", () -> {
            mounts.incrementAndGet();
            mounted.add("f");
        }));
        assertEquals(1, mounts.get(), "a new count: mounted again");
    }

    @Test
    void exclusiveSendsCallersWithoutTheLockToIt() throws Exception {
        RefCounts refs = new RefCounts(dir, id -> true, id -> new RefCounts.Layer(dir.resolve("e"), false));
        for (int i = 0; i < 3; i++) refs.acquire("e", () -> { }); // mapped at the third
        RefCounts other = new RefCounts(dir, id -> true, id -> new RefCounts.Layer(dir.resolve("e"), false));
        other.acquire("e", () -> { }); // mapped by someone already: other maps it at once
        assertEquals(dir.resolve("e"), other.tryAcquire("e"));
        Path seen = refs.exclusive("e", () -> {
            try (ExecutorService ex = Executors.newSingleThreadExecutor()) {
                return ex.submit(() -> other.tryAcquire("e")).get();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(null, seen, "no count changes while an exclusive body runs");
        assertEquals(dir.resolve("e"), other.tryAcquire("e"), "and after it, the word is trusted again");
        assertEquals(6, refs.count("e"));
    }
}
