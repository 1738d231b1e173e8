package dev.strata.snapshotter;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import containerd.services.snapshots.v1.SnapshotsGrpc;
import containerd.services.snapshots.v1.SnapshotsOuterClass.CleanupRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.CommitSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.Info;
import containerd.services.snapshots.v1.SnapshotsOuterClass.ListSnapshotsRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.ListSnapshotsResponse;
import containerd.services.snapshots.v1.SnapshotsOuterClass.MountsRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.MountsResponse;
import containerd.services.snapshots.v1.SnapshotsOuterClass.PrepareSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.PrepareSnapshotResponse;
import containerd.services.snapshots.v1.SnapshotsOuterClass.RemoveSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.StatSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.StatSnapshotResponse;
import containerd.services.snapshots.v1.SnapshotsOuterClass.UpdateSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.UpdateSnapshotResponse;
import containerd.services.snapshots.v1.SnapshotsOuterClass.UsageRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.UsageResponse;
import containerd.services.snapshots.v1.SnapshotsOuterClass.ViewSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.ViewSnapshotResponse;
import containerd.types.MountOuterClass.Mount;
import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.MountSpecs.MountSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * containerd's {@code Snapshots} gRPC service on a {@link Snapshotter}: messages in and out, errors as the status
 * codes containerd's {@code errdefs.FromGRPC} turns back into its error kinds. List answers in blocks of 100, as
 * containerd's own {@code snapshotservice} does.
 *
 * <p>Calls arrive on the server's I/O thread. Those that only read memory (Stat, List, and Mounts once a snapshot's
 * mounts are known) are answered there. Cleanup and Usage walk whole trees and always run on {@code workers}. The
 * calls whose work is bounded (Remove and Update: a record synced; and where a layer holds only its own changes,
 * {@link Snapshotter#layersHoldOwnChanges}, Prepare, View, Commit and Mounts: a few directories made, or the
 * container's own changes counted) are answered on the I/O thread too when no call is running on a worker: containerd
 * mostly calls one at a time, and every thread hand-off is a wake-up that a busy machine delays. A call that finds
 * another one running goes to a worker, so calls still proceed concurrently; one arriving while a call runs on the
 * I/O thread waits for it (a fdatasync and a few directory operations). A driver that copies a parent to make a
 * layer (vfs) makes every create on a worker.
 */
final class SnapshotsService extends SnapshotsGrpc.SnapshotsImplBase {
    private static final System.Logger LOG = System.getLogger(SnapshotsService.class.getName());
    private static final int LIST_BLOCK = 100;

    private final Snapshotter sn;
    private final Executor workers;
    /** Calls running on workers: while there are any, the I/O thread hands the others off too. */
    private final AtomicInteger onWorkers = new AtomicInteger();

    SnapshotsService(Snapshotter sn, Executor workers) {
        this.sn = sn;
        this.workers = workers;
    }

    @Override
    public void prepare(PrepareSnapshotRequest r, StreamObserver<PrepareSnapshotResponse> out) {
        boundedIfLayered("prepare", r.getKey(), out, () -> PrepareSnapshotResponse.newBuilder()
                .addAllMounts(toProto(sn.prepare(r.getKey(), r.getParent(), r.getLabelsMap()))).build());
    }

    @Override
    public void view(ViewSnapshotRequest r, StreamObserver<ViewSnapshotResponse> out) {
        boundedIfLayered("view", r.getKey(), out, () -> ViewSnapshotResponse.newBuilder()
                .addAllMounts(toProto(sn.view(r.getKey(), r.getParent(), r.getLabelsMap()))).build());
    }

    @Override
    public void mounts(MountsRequest r, StreamObserver<MountsResponse> out) {
        List<MountSpec> known = sn.knownMounts(r.getKey());
        if (known != null) reply("mounts", r.getKey(), out, () -> MountsResponse.newBuilder().addAllMounts(toProto(known)).build());
        else boundedIfLayered("mounts", r.getKey(), out, () -> MountsResponse.newBuilder().addAllMounts(toProto(sn.mounts(r.getKey()))).build());
    }

    @Override
    public void commit(CommitSnapshotRequest r, StreamObserver<Empty> out) {
        boundedIfLayered("commit", r.getKey(), out, () -> {
            sn.commit(r.getName(), r.getKey(), r.getLabelsMap());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void remove(RemoveSnapshotRequest r, StreamObserver<Empty> out) {
        whenIdle("remove", r.getKey(), out, () -> {
            sn.remove(r.getKey());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void stat(StatSnapshotRequest r, StreamObserver<StatSnapshotResponse> out) {
        reply("stat", r.getKey(), out, () -> StatSnapshotResponse.newBuilder().setInfo(toProto(sn.stat(r.getKey()))).build());
    }

    @Override
    public void update(UpdateSnapshotRequest r, StreamObserver<UpdateSnapshotResponse> out) {
        whenIdle("update", r.getInfo().getName(), out, () -> {
            Info i = r.getInfo();
            SnapshotInfo wanted = new SnapshotInfo(i.getName(), i.getParent(), Kind.ACTIVE, i.getLabelsMap(), Instant.EPOCH, Instant.EPOCH);
            return UpdateSnapshotResponse.newBuilder().setInfo(toProto(sn.update(wanted, r.getUpdateMask().getPathsList()))).build();
        });
    }

    @Override
    public void list(ListSnapshotsRequest r, StreamObserver<ListSnapshotsResponse> out) {
        try {
            List<Info> block = new ArrayList<>(LIST_BLOCK);
            sn.walk(r.getFiltersList(), info -> {
                block.add(toProto(info));
                if (block.size() == LIST_BLOCK) {
                    out.onNext(ListSnapshotsResponse.newBuilder().addAllInfo(block).build());
                    block.clear();
                }
            });
            if (!block.isEmpty()) out.onNext(ListSnapshotsResponse.newBuilder().addAllInfo(block).build());
            out.onCompleted();
        } catch (RuntimeException e) {
            out.onError(status("list", String.join(" ", r.getFiltersList()), e));
        }
    }

    @Override
    public void usage(UsageRequest r, StreamObserver<UsageResponse> out) {
        onWorker("usage", r.getKey(), out, () -> {
            Usage u = sn.usage(r.getKey());
            return UsageResponse.newBuilder().setSize(u.size()).setInodes(u.inodes()).build();
        });
    }

    @Override
    public void cleanup(CleanupRequest r, StreamObserver<Empty> out) {
        onWorker("cleanup", "", out, () -> {
            sn.cleanup();
            return Empty.getDefaultInstance();
        });
    }

    /** As {@link #whenIdle} where layers hold only their own changes; else on a worker. */
    private <T> void boundedIfLayered(String op, String key, StreamObserver<T> out, Supplier<T> call) {
        if (sn.layersHoldOwnChanges()) whenIdle(op, key, out, call);
        else onWorker(op, key, out, call);
    }

    /** Answers here, on the I/O thread, if no call is running on a worker; else on a worker. */
    private <T> void whenIdle(String op, String key, StreamObserver<T> out, Supplier<T> call) {
        if (onWorkers.get() == 0) reply(op, key, out, call);
        else onWorker(op, key, out, call);
    }

    /**
     * Answers on a worker thread; the I/O thread goes back to the other calls at once. The call stops counting as
     * running once its work is done, before its answer is sent: the client's next call, which may arrive while this
     * thread is still in the answer, then finds none running and is answered on the I/O thread.
     */
    private <T> void onWorker(String op, String key, StreamObserver<T> out, Supplier<T> call) {
        onWorkers.incrementAndGet();
        try {
            workers.execute(() -> reply(op, key, out, call, onWorkers::decrementAndGet));
        } catch (RejectedExecutionException e) {
            onWorkers.decrementAndGet();
            out.onError(Status.UNAVAILABLE.withDescription(op + " " + key + ": the snapshotter is stopping").asRuntimeException());
        }
    }

    private static <T> void reply(String op, String key, StreamObserver<T> out, Supplier<T> call) {
        reply(op, key, out, call, () -> {
        });
    }

    /** Makes the call and answers it; {@code workDone} runs when the work has ended, however, before the answer. */
    private static <T> void reply(String op, String key, StreamObserver<T> out, Supplier<T> call, Runnable workDone) {
        T result = null;
        RuntimeException failure = null;
        long start = System.nanoTime();
        try {
            result = call.get();
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            workDone.run();
        }
        if (failure != null) {
            StatusRuntimeException s = status(op, key, failure);
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, "{0} {1}: {2} in {3} µs", op, key, s.getStatus(), Long.toString((System.nanoTime() - start) / 1000));
            }
            answer(op, key, () -> out.onError(s));
            return;
        }
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) { // the arguments cost more than the check
            LOG.log(System.Logger.Level.DEBUG, "{0} {1}: OK in {2} µs", op, key, Long.toString((System.nanoTime() - start) / 1000));
        }
        T answered = result;
        answer(op, key, () -> {
            out.onNext(answered);
            out.onCompleted();
        });
    }

    /** A client that cancelled (or went away) while the work ran gets no answer; the work stands. */
    private static void answer(String op, String key, Runnable send) {
        try {
            send.run();
        } catch (StatusRuntimeException | IllegalStateException e) {
            LOG.log(System.Logger.Level.DEBUG, "{0} {1}: done, but the call was cancelled: {2}", op, key, e.getMessage());
        }
    }

    /** The status containerd's errdefs expects; the description is the one line a Strata error carries. */
    static StatusRuntimeException status(String op, String key, RuntimeException e) {
        Status s = switch (e) {
            case SnapshotException se -> switch (se.reason()) {
                case NOT_FOUND -> Status.NOT_FOUND;
                case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
                case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
                case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            };
            case LayerUnknownException ignored -> Status.NOT_FOUND;
            case InvalidLayerIdException ignored -> Status.INVALID_ARGUMENT;
            default -> {
                LOG.log(System.Logger.Level.WARNING, op + " " + key + " failed", e);
                yield Status.UNKNOWN;
            }
        };
        return s.withDescription(String.valueOf(e.getMessage())).asRuntimeException();
    }

    private static List<Mount> toProto(List<MountSpec> specs) {
        List<Mount> out = new ArrayList<>(specs.size());
        for (MountSpec m : specs) out.add(Mount.newBuilder().setType(m.type()).setSource(m.source()).addAllOptions(m.options()).build());
        return out;
    }

    private static Info toProto(SnapshotInfo i) {
        return Info.newBuilder().setName(i.name()).setParent(i.parent()).setKind(switch (i.kind()) {
                    case VIEW -> containerd.services.snapshots.v1.SnapshotsOuterClass.Kind.VIEW;
                    case ACTIVE -> containerd.services.snapshots.v1.SnapshotsOuterClass.Kind.ACTIVE;
                    case COMMITTED -> containerd.services.snapshots.v1.SnapshotsOuterClass.Kind.COMMITTED;
                }).setCreatedAt(timestamp(i.created())).setUpdatedAt(timestamp(i.updated())).putAllLabels(i.labels()).build();
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
