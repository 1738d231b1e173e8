package dev.strata.plugin;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.strata.api.StorageException;
import dev.strata.plugin.GraphDriverApi.BadRequestException;
import dev.strata.plugin.GraphDriverApi.Endpoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One connection's HTTP exchanges. Auto-read is off and this handler asks for each socket read, so a connection
 * has one request in progress at a time: a streamed body is read only as fast as the driver consumes it, and the
 * next request is read only once the reply is written (a request that arrived in the same read waits in
 * {@code pending}). A JSON call runs on the event loop, which serves this connection alone ({@link ConnectionLoops});
 * Diff and ApplyDiff run on the worker executor, since the loop must go on moving their streams meanwhile.
 */
final class PluginHttpHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(PluginHttpHandler.class.getName());
    static final String JSON_TYPE = "application/vnd.docker.plugins.v1+json";
    static final int MAX_JSON_BODY = 1 << 20;
    static final int DIFF_CHUNK = 64 << 10;
    /** Diff chunks written but not yet flushed to the socket, at most: bounds memory when dockerd reads slowly. */
    static final int DIFF_WINDOW = 4;
    private static final byte[] NO_BODY = new byte[0];

    private final GraphDriverApi api;
    private final Executor workers;
    private final Calls calls;
    private Exchange exchange;
    /** Messages of a next request that arrived while the current one was still being answered. */
    private final ArrayDeque<HttpObject> pending = new ArrayDeque<>();

    /** The request in progress and what has been decided about it. Confined to the event loop. */
    private static final class Exchange {
        final Endpoint endpoint;
        final String target;
        final String query;
        final boolean keepAlive;
        final long started = System.nanoTime();
        /** The JSON body so far (most arrive in one piece), and its length; null for a streamed or refused body. */
        byte[] json;
        int jsonLength;
        RequestBody tar;
        FullHttpResponse reply;
        boolean bodyEnded;
        boolean readPaused;
        boolean closeAfter;
        boolean replied;

        Exchange(Endpoint endpoint, String target, String query, boolean keepAlive) {
            this.endpoint = endpoint;
            this.target = target;
            this.query = query;
            this.keepAlive = keepAlive;
        }
    }

    PluginHttpHandler(GraphDriverApi api, Executor workers, Calls calls) {
        this.api = api;
        this.workers = workers;
        this.calls = calls;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpObject http)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!pending.isEmpty() || (exchange != null && exchange.bodyEnded)) {
            pending.add(http); // the next request; handled after this reply is written
            return;
        }
        handle(ctx, http);
    }

    private void handle(ChannelHandlerContext ctx, HttpObject msg) {
        try {
            if (msg instanceof HttpRequest request) onRequest(ctx, request);
            if (msg instanceof HttpContent content) onContent(ctx, content);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (wantsData()) ctx.read();
        ctx.fireChannelReadComplete();
    }

    /** Whether to read the socket now: for a new request, or for the body of this one unless the driver lags. */
    private boolean wantsData() {
        Exchange x = exchange;
        return x == null ? pending.isEmpty() : !x.bodyEnded && !x.readPaused && !x.replied;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange x = exchange;
        exchange = null;
        pending.forEach(ReferenceCountUtil::release);
        pending.clear();
        if (x != null) {
            if (x.tar != null) x.tar.abort(new IOException("the client closed the connection before the end of the ApplyDiff body"));
            if (x.reply != null && !x.replied) x.reply.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.DEBUG, "connection error, closing it: " + cause);
        ctx.close();
    }

    private void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
        String uri = request.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        Endpoint endpoint = Endpoint.byPath(path).orElse(null);
        Exchange x = new Exchange(endpoint, path, q < 0 ? "" : uri.substring(q + 1), HttpUtil.isKeepAlive(request));
        exchange = x;
        if (request.decoderResult().isFailure()) {
            x.closeAfter = true;
            reply(ctx, x, error(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request: " + request.decoderResult().cause().getMessage()));
            return;
        }
        if (endpoint == null) {
            x.reply = error(HttpResponseStatus.NOT_FOUND, "unknown endpoint " + path
                    + " (this plugin serves /Plugin.Activate and /GraphDriver.*)");
        } else if (!HttpMethod.POST.equals(request.method())) {
            x.reply = error(HttpResponseStatus.METHOD_NOT_ALLOWED, request.method() + " " + path + ": plugin calls are POSTs");
        } else if (endpoint.kind == GraphDriverApi.Kind.TAR_REQUEST) {
            startApplyDiff(ctx, x);
        } else {
            x.json = NO_BODY;
        }
    }

    private void onContent(ChannelHandlerContext ctx, HttpContent content) {
        Exchange x = exchange;
        if (x == null || x.replied) return;
        if (content.decoderResult().isFailure()) {
            if (x.tar != null) x.tar.abort(new IOException("malformed request body: " + content.decoderResult().cause().getMessage()));
            x.closeAfter = true;
            reply(ctx, x, error(HttpResponseStatus.BAD_REQUEST, "malformed request body: " + content.decoderResult().cause().getMessage()));
            return;
        }
        boolean more = true;
        if (x.reply == null && content.content().isReadable()) {
            if (x.json != null) {
                ByteBuf piece = content.content();
                int n = piece.readableBytes();
                if (x.jsonLength + n > MAX_JSON_BODY) {
                    x.json = null;
                    x.reply = error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, x.target + ": request body over " + MAX_JSON_BODY + " bytes");
                } else {
                    if (x.jsonLength + n > x.json.length) x.json = Arrays.copyOf(x.json, Math.max(x.jsonLength + n, 2 * x.json.length));
                    piece.getBytes(piece.readerIndex(), x.json, x.jsonLength, n);
                    x.jsonLength += n;
                }
            } else if (x.tar != null) {
                more = x.tar.offer(content.content().retain());
            }
        }
        if (content instanceof LastHttpContent) {
            x.bodyEnded = true;
            onBodyEnd(ctx, x);
        } else if (!more) {
            x.readPaused = true; // until the driver has drained the queue
        }
    }

    private void onBodyEnd(ChannelHandlerContext ctx, Exchange x) {
        if (x.tar != null) {
            x.tar.end();
            if (x.reply != null) reply(ctx, x, x.reply); // the driver finished first
            return;
        }
        if (x.reply != null) {
            reply(ctx, x, x.reply);
            return;
        }
        byte[] body = x.json.length == x.jsonLength ? x.json : Arrays.copyOf(x.json, x.jsonLength);
        x.json = null;
        if (x.endpoint.kind == GraphDriverApi.Kind.TAR_REPLY) {
            submit(ctx, x, () -> streamDiff(ctx, x, body));
        } else if (!calls.begin()) {
            shuttingDown(ctx, x);
        } else {
            try {
                reply(ctx, x, callJson(x, body));
            } finally {
                calls.end();
            }
        }
    }

    private FullHttpResponse callJson(Exchange x, byte[] body) {
        try {
            return json(HttpResponseStatus.OK, api.call(x.endpoint, body));
        } catch (RuntimeException e) {
            return failure(x, e);
        }
    }

    private void startApplyDiff(ChannelHandlerContext ctx, Exchange x) {
        x.tar = new RequestBody(() -> ctx.executor().execute(() -> {
            if (exchange == x && x.readPaused) {
                x.readPaused = false;
                if (wantsData()) ctx.read();
            }
        }));
        submit(ctx, x, () -> {
            FullHttpResponse response;
            try {
                response = json(HttpResponseStatus.OK, api.applyDiff(x.query, x.tar));
            } catch (RuntimeException e) {
                response = failure(x, e);
            } finally {
                x.tar.close(); // the rest of the body, if any, is read and dropped
            }
            FullHttpResponse r = response;
            ctx.executor().execute(() -> {
                if (exchange != x || x.replied) {
                    r.release();
                } else if (x.bodyEnded) {
                    reply(ctx, x, r);
                } else {
                    x.reply = r; // sent when the body ends: dockerd reads the reply only after sending all of it
                }
            });
        });
    }

    /**
     * Diff's reply is the tar itself, sent chunked as it is produced. An error before the first byte is an
     * {@code {"Err"}} reply; an error later can only be signalled by cutting the connection before the final chunk,
     * so that dockerd sees a truncated stream instead of committing a short layer.
     */
    private void streamDiff(ChannelHandlerContext ctx, Exchange x, byte[] body) {
        InputStream in;
        try {
            in = api.diff(body);
        } catch (RuntimeException e) {
            reply(ctx, x, failure(x, e));
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-tar");
        HttpUtil.setTransferEncodingChunked(head, true);
        HttpUtil.setKeepAlive(head, x.keepAlive);
        Semaphore window = new Semaphore(DIFF_WINDOW);
        AtomicReference<Throwable> writeFailure = new AtomicReference<>();
        long sent = 0;
        try (in) {
            ctx.writeAndFlush(head).addListener(f -> {
                if (!f.isSuccess()) writeFailure.compareAndSet(null, f.cause());
            });
            while (true) {
                byte[] chunk = new byte[DIFF_CHUNK];
                int n = in.readNBytes(chunk, 0, chunk.length);
                if (writeFailure.get() != null) throw new IOException("the client went away", writeFailure.get());
                if (n == 0) break;
                window.acquireUninterruptibly();
                ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(chunk, 0, n))).addListener(f -> {
                    window.release();
                    if (!f.isSuccess()) writeFailure.compareAndSet(null, f.cause());
                });
                sent += n;
                if (n < chunk.length) break;
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, x.endpoint.method() + " failed after " + sent
                    + " bytes; cutting the connection so the reader sees a truncated stream: " + e);
            ctx.executor().execute(() -> {
                x.replied = true;
                ctx.close();
            });
            return;
        }
        long total = sent;
        ctx.executor().execute(() -> {
            x.replied = true;
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                    .addListener(f -> completed(ctx, x, f, 200, total + " bytes of tar"));
        });
    }

    private void submit(ChannelHandlerContext ctx, Exchange x, Runnable task) {
        if (!calls.begin()) {
            shuttingDown(ctx, x);
            return;
        }
        try {
            workers.execute(() -> {
                try {
                    task.run();
                } finally {
                    calls.end();
                }
            });
        } catch (RejectedExecutionException e) {
            calls.end();
            shuttingDown(ctx, x);
        }
    }

    private void shuttingDown(ChannelHandlerContext ctx, Exchange x) {
        if (x.tar != null) x.tar.close();
        x.closeAfter = true;
        reply(ctx, x, error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the strata plugin is shutting down"));
    }

    /** Writes the reply; then reads the next request, or closes. Callable from any thread. */
    private void reply(ChannelHandlerContext ctx, Exchange x, FullHttpResponse response) {
        if (!ctx.executor().inEventLoop()) {
            ctx.executor().execute(() -> reply(ctx, x, response));
            return;
        }
        if (exchange != x || x.replied) {
            response.release();
            return;
        }
        x.replied = true;
        boolean keepAlive = x.keepAlive && !x.closeAfter;
        HttpUtil.setKeepAlive(response, keepAlive);
        int status = response.status().code();
        String summary = LOG.isLoggable(System.Logger.Level.DEBUG) ? abbreviate(response.content().toString(StandardCharsets.UTF_8)) : "";
        ChannelFuture written = ctx.writeAndFlush(response);
        written.addListener(f -> completed(ctx, x, f, status, summary));
    }

    private void completed(ChannelHandlerContext ctx, Exchange x, io.netty.util.concurrent.Future<?> written, int status, String summary) {
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, String.format("%s %d in %.1f ms: %s", x.target, status,
                    (System.nanoTime() - x.started) / 1e6, summary));
        }
        if (exchange == x) exchange = null;
        if (!written.isSuccess() || !x.keepAlive || x.closeAfter) {
            ctx.close();
            return;
        }
        while (!pending.isEmpty() && (exchange == null || !exchange.bodyEnded)) handle(ctx, pending.poll());
        if (wantsData()) ctx.read();
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }

    private static FullHttpResponse failure(Exchange x, RuntimeException e) {
        if (e instanceof BadRequestException bad) {
            return error(HttpResponseStatus.valueOf(bad.status), bad.getMessage());
        }
        String message;
        if (e instanceof StorageException) {
            message = e.getMessage();
            LOG.log(System.Logger.Level.INFO, x.target + ": " + message);
        } else {
            message = e.toString();
            LOG.log(System.Logger.Level.WARNING, x.target + " failed", e);
        }
        return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, message);
    }

    static FullHttpResponse error(HttpResponseStatus status, String message) {
        return json(status, Wire.Reply.error(message));
    }

    static FullHttpResponse json(HttpResponseStatus status, Object value) {
        byte[] bytes;
        try {
            bytes = Wire.encode(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a reply", e);
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, JSON_TYPE);
        HttpUtil.setContentLength(response, bytes.length);
        return response;
    }
}
