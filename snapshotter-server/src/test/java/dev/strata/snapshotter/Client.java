package dev.strata.snapshotter;

import containerd.services.snapshots.v1.SnapshotsGrpc;
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
import containerd.services.snapshots.v1.SnapshotsOuterClass.UsageResponse;
import containerd.services.snapshots.v1.SnapshotsOuterClass.ViewSnapshotRequest;
import containerd.types.MountOuterClass.Mount;
import com.google.protobuf.FieldMask;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** The tests' gRPC client on a snapshotter's socket: what containerd's proxy sends, from Java. */
final class Client implements AutoCloseable {
    private final UdsChannel uds;
    private final ManagedChannel channel;
    final SnapshotsGrpc.SnapshotsBlockingStub stub;

    Client(Path socket) {
        uds = UdsChannel.open(socket);
        channel = uds.channel();
        stub = SnapshotsGrpc.newBlockingStub(channel);
    }

    List<Mount> prepare(String key, String parent, Map<String, String> labels) {
        return stub.prepare(PrepareSnapshotRequest.newBuilder().setSnapshotter("strata").setKey(key).setParent(parent).putAllLabels(labels).build()).getMountsList();
    }

    List<Mount> prepare(String key, String parent) {
        return prepare(key, parent, Map.of());
    }

    List<Mount> view(String key, String parent) {
        return stub.view(ViewSnapshotRequest.newBuilder().setKey(key).setParent(parent).build()).getMountsList();
    }

    List<Mount> mounts(String key) {
        return stub.mounts(MountsRequest.newBuilder().setKey(key).build()).getMountsList();
    }

    void commit(String name, String key, Map<String, String> labels) {
        stub.commit(CommitSnapshotRequest.newBuilder().setName(name).setKey(key).putAllLabels(labels).build());
    }

    void commit(String name, String key) {
        commit(name, key, Map.of());
    }

    void remove(String key) {
        stub.remove(RemoveSnapshotRequest.newBuilder().setKey(key).build());
    }

    Info stat(String key) {
        return stub.stat(StatSnapshotRequest.newBuilder().setKey(key).build()).getInfo();
    }

    Info update(String name, Map<String, String> labels, String... paths) {
        return stub.update(UpdateSnapshotRequest.newBuilder().setInfo(Info.newBuilder().setName(name).putAllLabels(labels))
                .setUpdateMask(FieldMask.newBuilder().addAllPaths(List.of(paths))).build()).getInfo();
    }

    UsageResponse usage(String key) {
        return stub.usage(UsageRequest.newBuilder().setKey(key).build());
    }

    void cleanup() {
        stub.cleanup(CleanupRequest.getDefaultInstance());
    }

    List<Info> list(String... filters) {
        List<Info> out = new ArrayList<>();
        stub.list(ListSnapshotsRequest.newBuilder().addAllFilters(List.of(filters)).build()).forEachRemaining(r -> out.addAll(r.getInfoList()));
        return out;
    }

    /** After the server restarted: reconnect now, not after the channel's back-off, and wait until it answers. */
    void awaitServing() throws InterruptedException {
        channel.resetConnectBackoff();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                list();
                return;
            } catch (StatusRuntimeException e) {
                if (System.nanoTime() > deadline) throw e;
                Thread.sleep(50);
                channel.resetConnectBackoff();
            }
        }
    }

    /** The status code a call fails with. */
    static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    @Override
    public void close() {
        uds.close();
    }
}
