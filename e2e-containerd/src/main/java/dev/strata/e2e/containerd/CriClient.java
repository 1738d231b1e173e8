package dev.strata.e2e.containerd;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import runtime.v1.ImageServiceGrpc;
import runtime.v1.RuntimeServiceGrpc;

import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A CRI client as kubelet is one: the {@code runtime.v1} RuntimeService and ImageService (stubs generated from
 * cri-api's api.proto) on containerd's socket, over Netty's NIO UNIX-domain channel (no native epoll needed).
 */
public final class CriClient implements AutoCloseable {
    private final EventLoopGroup group;
    private final ManagedChannel channel;
    public final RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;
    public final ImageServiceGrpc.ImageServiceBlockingStub images;

    public CriClient(Path socket) {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        channel = NettyChannelBuilder.forAddress(UnixDomainSocketAddress.of(socket))
                .channelType(NioDomainSocketChannel.class)
                .eventLoopGroup(group)
                .usePlaintext()
                .overrideAuthority("localhost") // a socket path is no authority
                .build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
        images = ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
