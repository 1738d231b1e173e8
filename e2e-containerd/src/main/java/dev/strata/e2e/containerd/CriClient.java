package dev.strata.e2e.containerd;

import dev.strata.snapshotter.UdsChannel;
import runtime.v1.ImageServiceGrpc;
import runtime.v1.RuntimeServiceGrpc;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A CRI client as kubelet is one: the {@code runtime.v1} RuntimeService and ImageService (stubs generated from
 * cri-api's api.proto) on containerd's socket, over the snapshotter's own {@link UdsChannel} (Netty's NIO
 * UNIX-domain channel, no native epoll needed).
 */
public final class CriClient implements AutoCloseable {
    private final UdsChannel channel;
    public final RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;
    public final ImageServiceGrpc.ImageServiceBlockingStub images;

    public CriClient(Path socket) {
        channel = UdsChannel.open(socket);
        runtime = RuntimeServiceGrpc.newBlockingStub(channel.channel()).withDeadlineAfter(2, TimeUnit.MINUTES);
        images = ImageServiceGrpc.newBlockingStub(channel.channel()).withDeadlineAfter(2, TimeUnit.MINUTES);
    }

    @Override
    public void close() {
        channel.close();
    }
}
