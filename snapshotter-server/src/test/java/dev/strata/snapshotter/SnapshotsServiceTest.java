package dev.strata.snapshotter;

import com.google.protobuf.Empty;
import containerd.services.snapshots.v1.SnapshotsOuterClass.CleanupRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.Info;
import containerd.services.snapshots.v1.SnapshotsOuterClass.Kind;
import containerd.services.snapshots.v1.SnapshotsOuterClass.RemoveSnapshotRequest;
import containerd.types.MountOuterClass.Mount;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import io.grpc.Status;
import io.grpc.Status.Code;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.strata.snapshotter.Client.code;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RPCs as containerd's proxy sends them, against a server in this JVM: semantics, errors, mounts, concurrency. */
class SnapshotsServiceTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"overlay", "vfs"})
    void errorsAreTheCodesContainerdsErrdefsExpects(String driver) throws Exception {
        try (Served s = new Served(driver, tmp)) {
            Client c = s.client;
            assertEquals(Code.NOT_FOUND, code(() -> c.stat("nosuch")));
            assertEquals(Code.NOT_FOUND, code(() -> c.remove("nosuch")));
            assertEquals(Code.NOT_FOUND, code(() -> c.prepare("a", "nosuch")));
            assertEquals(Code.INVALID_ARGUMENT, code(() -> c.prepare("", "")));
            c.prepare("base-active", "");
            assertEquals(Code.ALREADY_EXISTS, code(() -> c.prepare("base-active", "")));
            assertEquals(Code.ALREADY_EXISTS, code(() -> c.view("base-active", "")));
            assertEquals(Code.INVALID_ARGUMENT, code(() -> c.prepare("child", "base-active")), "the parent is not committed");
            c.commit("base", "base-active");
            assertEquals(Code.NOT_FOUND, code(() -> c.stat("base-active")), "commit removes the key");
            assertEquals(Code.FAILED_PRECONDITION, code(() -> c.mounts("base")));
            c.view("v", "base");
            assertEquals(Code.FAILED_PRECONDITION, code(() -> c.commit("v2", "v")), "a view cannot be committed");
            c.prepare("child", "base");
            assertEquals(Code.ALREADY_EXISTS, code(() -> c.commit("base", "child")));
            assertEquals(Code.FAILED_PRECONDITION, code(() -> c.remove("base")), "base has children");
            assertEquals(Code.INVALID_ARGUMENT, code(() -> c.update("child", Map.of(), "parent")));
            assertEquals(Code.INVALID_ARGUMENT, code(() -> c.list("labels.\"unterminated")));
            c.remove("child");
            c.remove("v");
            c.remove("base");
            assertTrue(c.list().isEmpty());
        }
    }

    @Test
    void lazyPullHookAnswersAlreadyExistsAndListFindsTheTargetByLabelAndParent() throws Exception {
        try (Served s = new Served("overlay", tmp)) {
            Client c = s.client;
            c.prepare("p-active", "");
            c.commit("sha256:parent", "p-active");
            String ref = "containerd.io/snapshot.ref";
            // a remote snapshotter's commit carries the label: the target chain id
            c.prepare("extract-1 sha256:target", "sha256:parent", Map.of(ref, "sha256:target"));
            c.commit("sha256:target", "extract-1 sha256:target", Map.of(ref, "sha256:target"));
            assertEquals(Code.ALREADY_EXISTS, code(() -> c.prepare("extract-2 sha256:target", "sha256:parent", Map.of(ref, "sha256:target"))));
            assertEquals(Code.NOT_FOUND, code(() -> c.stat("extract-2 sha256:target")), "nothing was made");
            List<Info> found = c.list("labels.\"containerd.io/snapshot.ref\"==sha256:target,parent==sha256:parent");
            assertEquals(List.of("sha256:target"), found.stream().map(Info::getName).toList());
            assertEquals(Kind.COMMITTED, found.getFirst().getKind());
            assertTrue(c.list("labels.\"containerd.io/snapshot.ref\"==sha256:target,parent==other").isEmpty());
            assertEquals(2, c.list("name==sha256:parent", "parent==sha256:parent").size(), "filters OR");
            assertEquals(List.of("sha256:parent"), c.list("kind==committed,labels.\"containerd.io/snapshot.ref\"!=sha256:target")
                    .stream().map(Info::getName).toList());
            assertEquals(List.of("sha256:target"), c.list("labels.\"containerd.io/snapshot.ref\"~=/^sha256:t/")
                    .stream().map(Info::getName).toList());
            c.remove("sha256:target");
            c.remove("sha256:parent");
        }
    }

    @Test
    void updateChangesOnlyLabelsAsItsFieldPathsSay() throws Exception {
        try (Served s = new Served("vfs", tmp)) {
            Client c = s.client;
            c.prepare("a", "", Map.of("l1", "v1", "l2", "v2", "empty", ""));
            Info before = c.stat("a");
            assertEquals(Map.of("l1", "v1", "l2", "v2"), before.getLabelsMap(), "empty values are dropped");
            Info u = c.update("a", Map.of("l1", "updated", "l4", "v4"), "labels.l1", "labels.l2");
            assertEquals(Map.of("l1", "updated"), u.getLabelsMap(), "l2 deleted, l4 not named");
            assertEquals(before.getCreatedAt(), u.getCreatedAt());
            assertTrue(nanos(u.getUpdatedAt()) > nanos(before.getUpdatedAt()), "Updated moves");
            assertEquals(Map.of("x", "y"), c.update("a", Map.of("x", "y")).getLabelsMap(), "no path replaces all");
            assertEquals(Map.of("z", "1"), c.update("a", Map.of("z", "1"), "labels").getLabelsMap());
            c.remove("a");
        }
    }

    @Test
    void overlayAnswersOverlayMountsWithShortLinksAndViewsAsContainerdDoes() throws Exception {
        try (Served s = new Served("overlay", tmp)) {
            Client c = s.client;
            Mount base = c.prepare("b-active", "").getFirst();
            assertEquals("bind", base.getType());
            assertEquals(List.of("rw", "rbind"), base.getOptionsList());
            c.commit("b", "b-active");
            Mount view1 = c.view("v1", "b").getFirst();
            assertEquals("bind", view1.getType(), "a view of one layer is a read-only bind");
            assertTrue(view1.getOptionsList().contains("ro"));
            Mount active = c.prepare("c-active", "b").getFirst();
            assertEquals("overlay", active.getType());
            String lower = active.getOptionsList().stream().filter(o -> o.startsWith("lowerdir=")).findFirst().orElseThrow();
            assertTrue(lower.startsWith("lowerdir=" + tmp.resolve("overlay/l") + "/"), lower);
            assertTrue(active.getOptionsList().stream().anyMatch(o -> o.startsWith("upperdir=")));
            assertEquals(active, c.mounts("c-active").getFirst());
            c.commit("c", "c-active");
            Mount view2 = c.view("v2", "c").getFirst();
            assertEquals("overlay", view2.getType());
            assertTrue(view2.getOptionsList().stream().noneMatch(o -> o.startsWith("upperdir=")), "a view is read-only");
            assertEquals(2, view2.getOptionsList().stream().filter(o -> o.startsWith("lowerdir=")).findFirst().orElseThrow().split(":").length);
            for (String k : List.of("v2", "c", "v1", "b")) c.remove(k);
        }
    }

    @Test
    void usageCountsTheSnapshotsOwnBlocksAndInodesAndIsKeptAtCommit() throws Exception {
        try (Served s = new Served("overlay", tmp)) {
            Client c = s.client;
            Mount m = c.prepare("a", "").getFirst();
            Path dir = Path.of(m.getSource());
            Files.write(dir.resolve("big"), new byte[1 << 20]);
            Files.createDirectory(dir.resolve("d"));
            var u = c.usage("a");
            assertTrue(u.getSize() >= 1 << 20, "size " + u.getSize());
            assertEquals(3, u.getInodes(), "root, big, d");
            c.commit("a1", "a");
            assertEquals(u, c.usage("a1"));
            c.remove("a1");
        }
    }

    /** What a kill can leave: a committed layer and its child that no record names; the next start removes both. */
    @ParameterizedTest
    @ValueSource(strings = {"overlay", "vfs"})
    void orphanLayersAreRemovedAtStartChildrenFirst(String driver) throws Exception {
        Path root = tmp.resolve(driver);
        DriverRegistry registry = DriverRegistry.load();
        var provider = registry.require(driver);
        try (StorageDriver d = registry.open(provider, root, List.of())) {
            d.create(Snapshotter.LAYER_PREFIX + "orphan-parent", null, null);
            d.createReadWrite(Snapshotter.LAYER_PREFIX + "orphan-child", Snapshotter.LAYER_PREFIX + "orphan-parent", null);
        }
        try (Served s = new Served(driver, root)) {
            assertEquals(List.of(), s.snapshotter.driver().layers().stream().filter(l -> l.startsWith(Snapshotter.LAYER_PREFIX)).toList());
        }
    }

    @Test
    void concurrentCallsAreServed() throws Exception {
        try (Served s = new Served("overlay", tmp); ExecutorService pool = Executors.newFixedThreadPool(8)) {
            Client c = s.client;
            c.prepare("base-a", "");
            c.commit("base", "base-a");
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int n = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 15; i++) {
                        String k = "t" + n + "-" + i;
                        c.prepare(k, "base");
                        c.commit(k + "-c", k);
                        c.view(k + "-v", k + "-c");
                        assertEquals(Code.FAILED_PRECONDITION, code(() -> c.remove(k + "-c")));
                        c.remove(k + "-v");
                        c.remove(k + "-c");
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
            assertEquals(List.of("base"), c.list().stream().map(Info::getName).toList());
            assertEquals(Code.NOT_FOUND, code(() -> c.commit("x", "nosuch")));
            c.remove("base");
            c.cleanup(); // layers of removed snapshots go in the background; Cleanup waits for them
            try (var layers = Files.list(tmp.resolve("overlay"))) {
                assertEquals(List.of(), layers.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("sn-")).toList());
            }
        }
    }

    private static long nanos(com.google.protobuf.Timestamp t) {
        return t.getSeconds() * 1_000_000_000L + t.getNanos();
    }

    @Test
    void theCallThatArrivesWhileAWorkerSendsItsAnswerIsNotHandedToAWorker() throws Exception {
        DriverRegistry registry = DriverRegistry.load();
        var provider = registry.require("vfs");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Snapshotter sn = Snapshotter.open(registry.open(provider, tmp, List.of()), tmp.resolve("snapshots"))) {
            AtomicInteger handedOff = new AtomicInteger();
            Executor workers = r -> {
                handedOff.incrementAndGet();
                pool.execute(r);
            };
            SnapshotsService service = new SnapshotsService(sn, workers);
            CompletableFuture<Status.Code> removed = new CompletableFuture<>();
            // containerd's next call arrives while the worker is still sending Cleanup's answer
            service.cleanup(CleanupRequest.getDefaultInstance(), observer(() -> service.remove(
                    RemoveSnapshotRequest.newBuilder().setKey("nosuch").build(), observer(() -> removed.complete(Code.OK), removed))));
            assertEquals(Code.NOT_FOUND, removed.get(30, TimeUnit.SECONDS));
            assertEquals(1, handedOff.get(), "only Cleanup went to a worker");
        } finally {
            pool.shutdownNow();
        }
    }

    /** Runs {@code completed} when the call completes; its error's code completes {@code failed}. */
    private static <T> StreamObserver<T> observer(Runnable completed, CompletableFuture<Status.Code> failed) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
            }

            @Override
            public void onError(Throwable t) {
                failed.complete(Status.fromThrowable(t).getCode());
            }

            @Override
            public void onCompleted() {
                completed.run();
            }
        };
    }

    private static StreamObserver<Empty> observer(Runnable completed) {
        return observer(completed, new CompletableFuture<>());
    }
}
