package dev.strata.plugin;

import dev.strata.api.DriverRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ImmediateEventExecutor;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves one storage driver to dockerd as a graphdriver plugin: HTTP/1.1 on a UNIX socket (Netty, pure JDK
 * transport). One thread accepts; each connection is served on an event loop of its own ({@link ConnectionLoops}),
 * where its JSON calls run too, so requests on different connections proceed concurrently and a request wakes one
 * thread. Diff and ApplyDiff, which stream while the driver works, run on worker threads.
 */
public final class PluginServer implements SocketServer {
    private static final System.Logger LOG = System.getLogger(PluginServer.class.getName());
    /** Where dockerd looks for a legacy plugin named {@code strata}. */
    public static final Path DEFAULT_SOCKET = Path.of("/run/docker/plugins/strata.sock");
    private static final int MAX_WORKERS = 64;

    /**
     * @param socket        the socket path; dockerd finds {@code /run/docker/plugins/<name>.sock} as plugin {@code <name>}
     * @param driverName    the driver to serve, or null to choose at Init (see {@link DriverRegistry#select})
     * @param options       driver options ({@code key=value}), before dockerd's {@code --storage-opt}
     * @param registry      where drivers are found
     * @param environment   read for {@link DriverRegistry#ENV_VAR} when no driver is named
     * @param shutdownGrace how long {@link #close} waits for requests in progress before cutting connections
     */
    public record Config(Path socket, String driverName, List<String> options, DriverRegistry registry,
                         Map<String, String> environment, Duration shutdownGrace) {
        public Config {
            socket = socket.toAbsolutePath();
            options = List.copyOf(options);
            environment = Map.copyOf(environment);
        }

        public static Config of(Path socket, String driverName, List<String> options) {
            return new Config(socket, driverName, options, DriverRegistry.load(), System.getenv(), Duration.ofSeconds(20));
        }
    }

    private final Config config;
    private final DriverHost host;
    private final EventLoopGroup acceptor;
    private final ConnectionLoops connectionLoops = new ConnectionLoops();
    private final EventLoopGroup loops;
    private final ThreadPoolExecutor workers;
    private final Calls calls = new Calls();
    private final ChannelGroup connections;
    private final CloseOnce closed = new CloseOnce();
    private final AtomicLong accepted = new AtomicLong();
    private Channel server;
    private Object socketKey;

    private PluginServer(Config config) {
        this.config = config;
        this.host = new DriverHost(config.registry(), config.driverName(), config.options(), config.environment());
        this.acceptor = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("strata-plugin-accept", true), NioIoHandler.newFactory());
        this.loops = connectionLoops.newGroup();
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(0, MAX_WORKERS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "strata-plugin-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.connections = new DefaultChannelGroup("strata-plugin", ImmediateEventExecutor.INSTANCE);
    }

    /**
     * Validates the driver and its options, binds the socket (removing a stale one) and starts serving.
     *
     * @throws IOException if the socket cannot be made: a live server on it, a non-socket in the way, a path too long
     */
    public static PluginServer start(Config config) throws IOException {
        LeakDetection.offUnlessAsked();
        PluginServer s = new PluginServer(config);
        try {
            s.bind();
        } catch (IOException | RuntimeException e) {
            s.shutdownResources();
            throw e;
        }
        return s;
    }

    private void bind() throws IOException {
        GraphDriverApi api = new GraphDriverApi(host);
        ServerBootstrap b = new ServerBootstrap()
                .group(acceptor, loops)
                .channel(NioServerDomainSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        accepted.incrementAndGet();
                        connectionLoops.track(ch);
                        ch.pipeline().addLast(
                                new HttpServerCodec(new HttpDecoderConfig().setMaxChunkSize(PluginHttpHandler.DIFF_CHUNK)),
                                new HttpServerExpectContinueHandler(),
                                new PluginHttpHandler(api, workers, calls));
                    }
                });
        socketKey = SocketFile.bind(config.socket(), at -> server = b.bind(UnixDomainSocketAddress.of(at)).sync().channel());
        LOG.log(System.Logger.Level.INFO, "serving the graphdriver plugin protocol on {0} ({1})", config.socket(), host.describe());
        workers.execute(Wire::warmUp);
    }

    @Override
    public Path socket() {
        return config.socket();
    }

    /** Connections accepted since the start: with a kept-alive client, one per client. */
    public long connectionsAccepted() {
        return accepted.get();
    }

    /** Serves until SIGTERM or SIGINT, then stops through the driver's cleanup ({@link SocketServer#serveUntilStopped}). */
    public static void serve(Config config) throws IOException, InterruptedException {
        SocketServer.serveUntilStopped(() -> start(config),
                "strata plugin: stopped serving on " + config.socket() + " after the driver's cleanup");
    }

    @Override
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /**
     * Stops gracefully: removes the socket and stops accepting, lets requests in progress finish (up to the grace
     * period), closes the connections, then runs the driver's cleanup (unmounting what it mounted). Idempotent.
     */
    @Override
    public void close() {
        if (!closed.begin()) return;
        try {
            SocketFile.removeIfOurs(config.socket(), socketKey);
            if (server != null) server.close().syncUninterruptibly();
            workers.shutdown();
            if (!calls.closeAndAwait(config.shutdownGrace())) {
                LOG.log(System.Logger.Level.WARNING, "requests still running after {0}; closing their connections", config.shutdownGrace());
            }
            connections.close().syncUninterruptibly();
            if (!awaitWorkers(Duration.ofSeconds(5))) {
                LOG.log(System.Logger.Level.WARNING, "driver calls still running; cleaning up regardless");
            }
            try {
                host.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "driver cleanup failed", e);
            }
        } finally {
            shutdownResources();
            closed.finished();
            LOG.log(System.Logger.Level.INFO, "stopped serving on {0}", config.socket());
        }
    }

    private boolean awaitWorkers(Duration d) {
        try {
            return workers.awaitTermination(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void shutdownResources() {
        workers.shutdownNow();
        acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
