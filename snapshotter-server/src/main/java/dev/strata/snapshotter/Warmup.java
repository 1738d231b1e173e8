package dev.strata.snapshotter;

import containerd.services.snapshots.v1.SnapshotsGrpc;
import containerd.services.snapshots.v1.SnapshotsOuterClass.ListSnapshotsRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.MountsRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.StatSnapshotRequest;
import containerd.services.snapshots.v1.SnapshotsOuterClass.UsageRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Exercises the whole gRPC path (connection, HTTP/2 handshake, protobuf, the service, the error mapping) on the
 * private bind path before the socket is published. containerd 2.x dials a proxy with a connect deadline of about
 * one second that includes the HTTP/2 handshake; a cold JVM on a busy machine missed it, and containerd's first
 * call failed ("error reading server preface"). After this, the first connection containerd makes meets a server
 * whose classes are loaded and whose code paths have run. Only reads of a key that cannot exist: nothing is stored.
 */
final class Warmup {
    /** Not a key containerd makes (its keys are namespaced, "ns/id/name"); a Stat of it answers NotFound. */
    private static final String PROBE = "strata-warmup-probe";
    private static final int CONNECTIONS = 3;
    private static final int CALLS = 20;

    private Warmup() {
    }

    static void run(Path bound, EventLoopGroup loop) throws IOException {
        for (int c = 0; c < CONNECTIONS; c++) {
            try (UdsChannel ch = UdsChannel.open(bound, loop)) {
                var stub = SnapshotsGrpc.newBlockingStub(ch.channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
                for (int i = 0; i < CALLS; i++) {
                    expectNotFound(() -> stub.stat(StatSnapshotRequest.newBuilder().setKey(PROBE).build()));
                    expectNotFound(() -> stub.mounts(MountsRequest.newBuilder().setKey(PROBE).build()));
                    expectNotFound(() -> stub.usage(UsageRequest.newBuilder().setKey(PROBE).build()));
                    stub.list(ListSnapshotsRequest.newBuilder().addFilters("name==" + PROBE).build()).forEachRemaining(r -> {
                    });
                }
            } catch (StatusRuntimeException e) {
                throw new IOException("the snapshotter did not answer its own warm-up call on " + bound + ": " + e.getStatus(), e);
            }
        }
    }

    private static void expectNotFound(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.NOT_FOUND) throw e;
        }
    }
}
