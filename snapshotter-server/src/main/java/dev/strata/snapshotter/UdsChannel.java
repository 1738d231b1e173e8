package dev.strata.snapshotter;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;

import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A plaintext gRPC client channel on a UNIX socket (Netty's NIO domain-socket channel, as the server's), closed with
 * the event loop it made. The one way Strata's own clients dial a gRPC server on a socket: the snapshotter's warm-up,
 * the AOT training run, the tests, and the end-to-end tests' CRI client of containerd.
 */
public final class UdsChannel implements AutoCloseable {
    private final ManagedChannel channel;
    /** The event loop this channel made and so shuts down; null when the caller lent one. */
    private final EventLoopGroup ownLoop;

    private UdsChannel(Path socket, EventLoopGroup loop, EventLoopGroup ownLoop) {
        this.channel = NettyChannelBuilder.forAddress(UnixDomainSocketAddress.of(socket))
                .channelType(NioDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext()
                .withOption(ChannelOption.SO_KEEPALIVE, null) // as the server's: no TCP option on a UNIX socket
                // A socket path is no authority (grpc-java would send the path): "localhost", as grpc-go's unix dialer
                // sends it, so containerd's CRI takes the calls and Strata's server sees what containerd sends it.
                .overrideAuthority("localhost")
                .build();
        this.ownLoop = ownLoop;
    }

    /** A channel with an event loop (one thread) of its own, shut down by {@link #close()}. */
    public static UdsChannel open(Path socket) {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        return new UdsChannel(socket, loop, loop);
    }

    /** A channel on a lent event loop, which {@link #close()} leaves running. */
    static UdsChannel open(Path socket, EventLoopGroup lent) {
        return new UdsChannel(socket, lent, null);
    }

    public ManagedChannel channel() {
        return channel;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownLoop != null) ownLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
