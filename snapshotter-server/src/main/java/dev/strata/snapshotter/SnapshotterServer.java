package dev.strata.snapshotter;

import dev.strata.plugin.CloseOnce;
import dev.strata.plugin.LeakDetection;
import dev.strata.plugin.SocketFile;
import dev.strata.plugin.SocketServer;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serves a {@link Snapshotter} as containerd's {@code containerd.services.snapshots.v1.Snapshots} on a UNIX socket:
 * grpc-java over Netty's pure-JDK domain-socket channel (no native epoll). One event-loop thread does the I/O and
 * answers reads, and bounded calls while no other call runs; the rest run on a pool of worker threads
 * ({@link SnapshotsService}), so RPCs on different streams proceed concurrently. The socket is made as
 * the graphdriver plugin's is ({@link SocketFile}: mode 0600, stale sockets replaced, live ones refused), and it
 * appears only after the server has answered calls of its own ({@link Warmup}).
 */
public final class SnapshotterServer implements SocketServer {
    private static final System.Logger LOG = System.getLogger(SnapshotterServer.class.getName());
    /** The socket containerd's {@code proxy_plugins} stanza names by default in Strata's docs. */
    public static final Path DEFAULT_SOCKET = Path.of("/run/strata/snapshotter.sock");
    private static final int WORKERS = 16;

    private final Path socket;
    private final Snapshotter snapshotter;
    private final Duration grace;
    private final EventLoopGroup loop;
    private final ThreadPoolExecutor workers;
    private final CloseOnce closed = new CloseOnce();
    private Server server;
    private Object socketKey;

    private SnapshotterServer(Path socket, Snapshotter snapshotter, Duration grace) {
        this.socket = socket.toAbsolutePath();
        this.snapshotter = snapshotter;
        this.grace = grace;
        this.loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("strata-snapshotter-io", true), NioIoHandler.newFactory());
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(WORKERS, WORKERS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "strata-snapshotter-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.workers.allowCoreThreadTimeOut(true); // an idle snapshotter keeps no worker threads
    }

    /**
     * Binds the socket and serves {@code snapshotter}, which the server then owns (closed with it).
     *
     * @param grace how long {@link #close} waits for calls in progress
     * @throws IOException if the socket cannot be made: a live server on it, a non-socket in the way, a path too long
     */
    public static SnapshotterServer start(Path socket, Snapshotter snapshotter, Duration grace) throws IOException {
        LeakDetection.offUnlessAsked();
        SnapshotterServer s = new SnapshotterServer(socket, snapshotter, grace);
        try {
            s.bind();
        } catch (IOException | RuntimeException e) {
            if (s.server != null) s.server.shutdownNow();
            snapshotter.close();
            s.workers.shutdownNow();
            s.loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            throw e;
        }
        return s;
    }

    /** Serves until SIGTERM or SIGINT ({@link SocketServer#serveUntilStopped}). */
    public static void serve(Path socket, Snapshotter snapshotter, Duration grace) throws IOException, InterruptedException {
        SocketServer.serveUntilStopped(() -> start(socket, snapshotter, grace), "strata snapshotter: stopped serving on " + socket);
    }

    private void bind() throws IOException {
        socketKey = SocketFile.bind(socket, at -> {
            server = NettyServerBuilder.forAddress(UnixDomainSocketAddress.of(at))
                    .channelFactory(SnapshotterServer::listeningChannel)
                    // grpc-java asks every connection for TCP keep-alive, which a UNIX socket has not: Netty then
                    // warns once per connection. null takes the option out of Netty's bootstrap.
                    .withChildOption(ChannelOption.SO_KEEPALIVE, null)
                    .bossEventLoopGroup(loop)
                    .workerEventLoopGroup(loop)
                    // Calls arrive on the I/O thread: grpc-java's own executor would add two thread hand-offs per call
                    // (method lookup, then the message), each a wake-up that a busy machine delays.
                    .directExecutor()
                    .addService(new SnapshotsService(snapshotter, workers))
                    .build()
                    .start();
            Warmup.run(at, loop); // before the socket appears: containerd's first dial gets a warm server
        });
        LOG.log(System.Logger.Level.INFO, "serving containerd snapshots on {0} ({1} in {2})", socket,
                snapshotter.driver().name(), snapshotter.driver().home());
        LOG.log(System.Logger.Level.INFO, IdMapLabels.advice(snapshotter.driver()));
    }

    /**
     * The listening channel, whose connections each get a {@link FlushConsolidationHandler} at the head of their
     * pipeline. Per unary call, grpc-go's client sends a PING (its bandwidth probe) along with the request; Netty
     * flushes the PING's ack at the end of the read, and grpc-java writes the answer a task later, so each call
     * cost two socket writes, and the client two wake-ups. Consolidated, the ack and the answer leave in one
     * writev. The flush waits at most until the event loop's current task list is done.
     */
    private static NioServerDomainSocketChannel listeningChannel() {
        NioServerDomainSocketChannel listening = new NioServerDomainSocketChannel();
        listening.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object accepted) {
                ((Channel) accepted).pipeline().addFirst(new FlushConsolidationHandler(
                        FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
                ctx.fireChannelRead(accepted);
            }

            @Override
            public boolean isSharable() {
                return true;
            }
        });
        return listening;
    }

    @Override
    public Path socket() {
        return socket;
    }

    @Override
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /**
     * Removes the socket, stops taking calls, lets calls in progress finish (up to the grace period), then closes
     * the snapshotter. Mounts that containerd may still use stay (see {@link Snapshotter#close}). Idempotent.
     */
    @Override
    public void close() {
        if (!closed.begin()) return;
        try {
            SocketFile.removeIfOurs(socket, socketKey);
            if (server != null) {
                server.shutdown();
                if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.log(System.Logger.Level.WARNING, "calls still running after {0}; cancelling them", grace);
                    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
            }
            workers.shutdown();
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                snapshotter.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing the snapshotter failed", e);
            }
            workers.shutdownNow();
            loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            closed.finished();
            LOG.log(System.Logger.Level.INFO, "stopped serving on {0}", socket);
        }
    }
}
