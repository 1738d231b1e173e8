package dev.strata.cli;

import containerd.services.snapshots.v1.SnapshotsGrpc;
import containerd.services.snapshots.v1.SnapshotsGrpc.SnapshotsBlockingStub;
import containerd.services.snapshots.v1.SnapshotsOuterClass.CleanupRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.CommitSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.Info;
import containerd.services.snapshots.v1.SnapshotsOuterClass.ListSnapshotsRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.MountsRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.PrepareSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.RemoveSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.StatSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.UpdateSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.UsageRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.ViewSnapshotRequest;
import com.google.protobuf.FieldMask;
import dev.strata.snapshotter.UdsChannel;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The training run of the servers' AOT cache ({@code __train-aot --serve SCRATCH}): {@code snapshotter serve} on a
 * throwaway root, started through the same command line an operator's unit runs, driven the way containerd drives a
 * container layer (Prepare on a committed parent, Mounts, Stat, Commit, List, Remove, and now and then View, Update,
 * Usage and Cleanup) by a gRPC client in the same JVM, then stopped by {@link System#exit}, as SIGTERM stops it.
 * The JVM records the classes that run loaded and linked and the methods' profiles (JEP 515), so that a server
 * started with the cache answers its first calls with linked classes and reaches compiled code sooner.
 * Overlay where the kernel has it (what the systemd unit serves), else vfs.
 */
final class ServeTraining {
    /**
     * Rounds of the training loop: 1,000 (~6,000 calls, ~20 s of CPU with the cache's assembly) served the first
     * 1,000 rounds of a fresh server as well as 3,000 did (scripts/package.d/aotbench), at about half the cost.
     */
    static final int ROUNDS = Integer.getInteger("strata.train.rounds", 1000);

    private ServeTraining() {
    }

    static int run(Path scratch) throws Exception {
        PrintWriter sink = new PrintWriter(new StringWriter());
        Files.createDirectories(scratch);
        for (String driver : List.of("overlay", "vfs")) {
            Path socket = scratch.resolve(driver + ".sock");
            Thread client = Thread.ofPlatform().daemon().name("strata-train-client").start(() -> {
                int rc = 1;
                try {
                    if (awaitSocket(socket)) {
                        drive(socket, ROUNDS);
                        rc = Main.OK;
                    }
                } catch (InterruptedException e) {
                    return; // the server did not start: the next driver is tried
                } catch (RuntimeException e) {
                    e.printStackTrace();
                }
                System.exit(rc); // the server's shutdown hook closes it, as on SIGTERM
            });
            Main.run(new String[]{"--root", scratch.resolve(driver).toString(), "-s", driver,
                    "snapshotter", "serve", "--socket", socket.toString()}, sink, sink);
            client.interrupt(); // serve returned: this driver cannot run here
            client.join();
        }
        return Main.FAILED;
    }

    private static boolean awaitSocket(Path socket) throws InterruptedException {
        for (int i = 0; i < 1200; i++) {
            if (Files.exists(socket)) return true;
            Thread.sleep(50);
        }
        return false;
    }

    private static void drive(Path socket, int rounds) {
        try (UdsChannel channel = UdsChannel.open(socket)) {
            SnapshotsBlockingStub s = SnapshotsGrpc.newBlockingStub(channel.channel());
            String base = "default/1/train-base";
            s.prepare(PrepareSnapshotRequest.newBuilder().setKey("default/0/extract-train").build());
            s.commit(CommitSnapshotRequest.newBuilder().setName(base).setKey("default/0/extract-train")
                    .putLabels("containerd.io/snapshot.ref", "sha256:train").build());
            for (int i = 0; i < rounds; i++) {
                String key = "default/" + (i + 2) + "/train-" + i, name = key + "-committed";
                s.prepare(PrepareSnapshotRequest.newBuilder().setKey(key).setParent(base)
                        .putLabels("containerd.io/gc.root", "2026-01-01T00:00:00Z").build());
                s.mounts(MountsRequest.newBuilder().setKey(key).build());
                s.stat(StatSnapshotRequest.newBuilder().setKey(key).build());
                s.commit(CommitSnapshotRequest.newBuilder().setName(name).setKey(key).build());
                s.list(ListSnapshotsRequest.newBuilder().addFilters("parent==" + base).build()).forEachRemaining(r -> {
                });
                if (i % 50 == 0) occasional(s, name, base, i);
                s.remove(RemoveSnapshotRequest.newBuilder().setKey(name).build());
            }
            s.remove(RemoveSnapshotRequest.newBuilder().setKey(base).build());
            s.cleanup(CleanupRequest.getDefaultInstance());
        }
    }

    /** The calls containerd makes less often: a view for an image's rootfs, label updates, usage, GC's cleanup. */
    private static void occasional(SnapshotsBlockingStub s, String name, String base, int i) {
        String view = "default/view-" + i;
        s.view(ViewSnapshotRequest.newBuilder().setKey(view).setParent(base).build());
        s.usage(UsageRequest.newBuilder().setKey(name).build());
        s.update(UpdateSnapshotRequest.newBuilder().setInfo(Info.newBuilder().setName(name).putAllLabels(Map.of("train", "x")))
                .setUpdateMask(FieldMask.newBuilder().addPaths("labels.train")).build());
        s.remove(RemoveSnapshotRequest.newBuilder().setKey(view).build());
        s.cleanup(CleanupRequest.getDefaultInstance());
    }
}
