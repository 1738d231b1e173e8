package dev.strata.plugin;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorChooserFactory;
import io.netty.util.concurrent.ThreadPerTaskExecutor;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The event loops connections are served on: each new connection gets the loop that serves the fewest (the first
 * such), so that up to {@link #LOOPS} connections each have a loop to themselves. A JSON call then runs on its
 * connection's own loop, where the request was read and where the reply is written: one thread wakes per request,
 * not three (loop, worker, loop), which on a busy machine is most of what a request costs. A slow call (a mount, the
 * removal of a large vfs layer) delays only its own connection, which has no other request in progress anyway.
 * Loops start their threads on first use, so the threads are as many as the most connections open at once.
 */
final class ConnectionLoops implements EventExecutorChooserFactory {
    static final int LOOPS = 32;

    private final Map<EventExecutor, AtomicInteger> open = new ConcurrentHashMap<>();

    EventLoopGroup newGroup() {
        return new MultiThreadIoEventLoopGroup(LOOPS, new ThreadPerTaskExecutor(new DefaultThreadFactory("strata-plugin-conn", true)),
                this, NioIoHandler.newFactory());
    }

    @Override
    public EventExecutorChooser newChooser(EventExecutor[] loops) {
        for (EventExecutor l : loops) open.put(l, new AtomicInteger());
        return () -> {
            synchronized (open) {
                EventExecutor best = loops[0];
                for (EventExecutor l : loops) {
                    if (open.get(l).get() < open.get(best).get()) best = l;
                }
                open.get(best).incrementAndGet();
                return best;
            }
        };
    }

    /** Counts the connection off its loop when it closes (the chooser counted it on). */
    void track(Channel ch) {
        AtomicInteger n = open.get(ch.eventLoop());
        if (n != null) ch.closeFuture().addListener(f -> n.decrementAndGet());
    }
}
