package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What none of the reference suites test: concurrency on one id, remove while mounted, restarts, kill -9. */
public interface RobustnessTests extends DriverUnderTest {
    int THREADS = 16;
    int ROUNDS = 25;

    @Test
    @Order(401)
    @DisplayName("strata: ConcurrentGetPut (16 threads, one id)")
    default void concurrentGetPut() throws Exception {
        StorageDriver d = driver();
        d.create("base", null, CreateOptions.NONE);
        Layers.apply(d, "base", Applier.createFile("/hello", "hello", 0644));
        d.createReadWrite("shared", "base", CreateOptions.NONE);
        Set<Path> roots = ConcurrentHashMap.newKeySet();
        CyclicBarrier allHold = new CyclicBarrier(THREADS + 1);
        CyclicBarrier release = new CyclicBarrier(THREADS + 1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                done.add(pool.submit(() -> {
                    for (int r = 0; r < ROUNDS; r++) {
                        Path root = d.get("shared", "");
                        roots.add(root);
                        assertArrayEquals("hello".getBytes(), java.nio.file.Files.readAllBytes(root.resolve("hello")));
                        d.put("shared");
                    }
                    Path root = d.get("shared", "");
                    roots.add(root);
                    allHold.await(60, TimeUnit.SECONDS);   // every thread holds one reference now
                    release.await(60, TimeUnit.SECONDS);
                    d.put("shared");
                    return null;
                }));
            }
            allHold.await(120, TimeUnit.SECONDS);
            assertEquals(THREADS, d.references("shared"), "references while " + THREADS + " threads hold the layer");
            release.await(60, TimeUnit.SECONDS);
            for (Future<?> f : done) f.get(120, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, roots.size(), "get returned different roots for one id: " + roots);
        assertEquals(0, d.references("shared"), "references after every get was put");
        Path root = roots.iterator().next();
        assertFalse(MountInfo.isMountPoint(root), "still mounted after the last put: " + root);
    }

    @Test
    @Order(402)
    @DisplayName("strata: RemoveWhileMounted")
    default void removeWhileMounted() {
        StorageDriver d = driver();
        d.create("base", null, CreateOptions.NONE);
        Layers.apply(d, "base", Applier.createFile("/lower", "lower", 0644));
        d.createReadWrite("container", "base", CreateOptions.NONE);
        Path root = d.get("container", "");
        Layers.apply(d, "container", Applier.createFile("/upper", "upper", 0644));
        d.get("container", ""); // two references held
        d.remove("container");
        assertFalse(d.exists("container"), "exists after removing a mounted layer");
        assertFalse(d.layers().contains("container"), "layers() after removing a mounted layer");
        assertTrue(MountInfo.under(root).isEmpty(), "removed layer still mounted: " + MountInfo.under(root));
        d.remove("base"); // the removed child must no longer hold its parent
        assertEquals(List.of(), d.layers());
    }

    @Test
    @Order(403)
    @DisplayName("strata: Restart")
    default void restart() {
        StorageDriver first = driver();
        first.create("a", null, CreateOptions.NONE);
        Layers.apply(first, "a", Applier.createFile("/file", "from a", 0644));
        first.createReadWrite("b", "a", CreateOptions.NONE);
        Path root = first.get("b", "");
        first.get("b", "");

        StorageDriver second = reopen();
        assertEquals(Set.of("a", "b"), Set.copyOf(second.layers()), "layers() seen by a new instance");
        assertTrue(second.exists("b"));
        assertEquals("a", second.parent("b"), "parent seen by a new instance");
        assertEquals(2, second.references("b"), "references seen by a new instance");
        assertEquals(root, second.get("b", ""), "a new instance's get of a mounted layer");
        assertEquals(3, first.references("b"), "references seen by the first instance after the second's get");
        assertArrayEquals("from a".getBytes(), Layers.read(second, "b", "/file"));
        second.put("b");
        second.put("b");
        first.put("b");
        assertEquals(0, first.references("b"));
        assertTrue(MountInfo.under(root).isEmpty(), "mounted after the last put from either instance");

        first.close();
        StorageDriver third = reopen();
        assertEquals(Set.of("a", "b"), Set.copyOf(third.layers()), "layers() after the first instance closed");
        assertEquals(0, third.references("b"));
        assertArrayEquals("from a".getBytes(), Layers.read(third, "b", "/file"));
    }

    @Test
    @Order(404)
    @DisplayName("strata: KillDuringApplyDiff (kill -9 of a child JVM)")
    default void killDuringApplyDiff() throws Exception {
        StorageDriver d = driver();
        d.create("base", null, CreateOptions.NONE);
        Layers.apply(d, "base", Applier.createFile("/base-file", "base", 0644));
        Map<String, String> baseTree = Layers.describe(d, "base", false);
        String victim = Layers.id("killed-during-apply");

        // While the child applies, a second process opens the driver (as a concurrent CLI command would): its
        // sweep of abandoned operations must leave an apply that a live process is still running alone, or the
        // child's apply fails and it exits before the kill; and the layer is there, as it was before the apply.
        ChildJvm.killDuringApply(driverName(), driverOptions(), testRoot(), victim, "base", () -> {
            StorageDriver concurrent = reopen();
            assertTrue(concurrent.exists(victim), "a layer being applied to is not reported as existing");
            Layers.assertSameTree(baseTree, Layers.describe(concurrent, victim, false), "a layer while a diff is applied to it");
        });

        StorageDriver after = reopen();
        assertTrue(after.exists(victim), "after kill -9 during applyDiff, the layer (made before the apply) is gone");
        assertEquals(Set.of("base", victim), Set.copyOf(after.layers()), "layers() after kill -9 during applyDiff");
        Layers.assertSameTree(baseTree, Layers.describe(after, victim, false),
                "after kill -9 during applyDiff, the layer holds files of the killed apply");
        after.remove(victim);
        after.create(victim, "base", CreateOptions.NONE); // the id is free again
        after.remove(victim);
        assertEquals(List.of("base"), after.layers());
    }

    @Test
    @Order(405)
    @DisplayName("strata: TwoProcessesGetPut (a child JVM and this one, one id)")
    default void twoProcessesGetPut() throws Exception {
        StorageDriver d = driver();
        d.create("base", null, CreateOptions.NONE);
        Layers.apply(d, "base", Applier.createFile("/hello", "hello", 0644));
        d.createReadWrite("shared", "base", CreateOptions.NONE);
        int rounds = 150;
        List<String> args = new ArrayList<>(List.of(driverName(), testRoot().toString(), "shared", "hello", Integer.toString(rounds)));
        args.addAll(driverOptions());
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<String> child = pool.submit(() -> ChildJvm.run(GetPutLoop.class, args));
            GetPutLoop.run(d, "shared", "hello", rounds); // the same loop here, meanwhile
            assertTrue(child.get(150, TimeUnit.SECONDS).contains(GetPutLoop.DONE), "the child JVM's loop finished");
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, d.references("shared"), "every get was put, in both processes");
        assertEquals(0, reopen().references("shared"), "and a new instance counts the same");
        Path root = d.get("shared", "");
        assertArrayEquals("hello".getBytes(), java.nio.file.Files.readAllBytes(root.resolve("hello")));
        d.put("shared");
    }
}
