package io.granary.feature.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import io.granary.common.GranaryException;
import io.granary.common.rpc.BearerTokens;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the feature server (HTTP/1.1, keep-alive): POST /get-online-features, GET
 * /health, GET /metrics. Requests are answered on the connection's event loop when lookups are
 * local (RocksDB: a lookup never waits on the network, so no thread hop), and on
 * {@code lookups} when they wait on one (Redis), which must not hold an event loop up.
 */
final class HttpApi implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
    private static final int MAX_BODY = 16 << 20;
    private static final String JSON_TYPE = "application/json";

    private final EventLoopGroup loops;
    private final Channel listening;
    private final OnlineFeatures features;
    private final ServingMetrics metrics;
    private final Optional<BearerTokens> tokens;
    private final BooleanSupplier healthy;
    private final Executor lookups;

    /** @param lookups where a lookup that waits on the network runs; null to answer on the event loop */
    HttpApi(String host, int port, OnlineFeatures features, ServingMetrics metrics, Optional<BearerTokens> tokens,
            BooleanSupplier healthy, Executor lookups) throws IOException {
        this.features = features;
        this.metrics = metrics;
        this.tokens = tokens;
        this.healthy = healthy;
        this.lookups = lookups;
        this.loops = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(), runnable -> {
            Thread thread = new Thread(runnable, "granary-http");
            thread.setDaemon(true);
            return thread;
        }, NioIoHandler.newFactory());
        try {
            this.listening = new ServerBootstrap()
                    .group(loops)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true) // an answer must not wait for the peer's delayed ACK
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            channel.pipeline().addLast(new HttpServerCodec(), new HttpServerExpectContinueHandler(),
                                    new BodyLimit(), new Requests());
                        }
                    })
                    .bind(new InetSocketAddress(host, port)).syncUninterruptibly().channel();
        } catch (Exception e) { // netty rethrows the bind's IOException undeclared
            loops.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    int port() {
        return ((InetSocketAddress) listening.localAddress()).getPort();
    }

    /** Gathers a request's body, refusing one over {@link #MAX_BODY} with an answer that says so. */
    private static final class BodyLimit extends HttpObjectAggregator {
        BodyLimit() {
            super(MAX_BODY);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            respond(ctx, false, error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "the request body is larger than 16 MiB",
                    "send fewer entities per request"));
        }
    }

    private final class Requests extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (request.decoderResult().isFailure()) {
                respond(ctx, false, error(HttpResponseStatus.BAD_REQUEST, "not an HTTP request: " + request.decoderResult().cause(), ""));
                return;
            }
            String path = new QueryStringDecoder(request.uri()).path();
            switch (path) {
                case "/get-online-features" -> onlineFeatures(ctx, request, keepAlive);
                case "/health" -> {
                    boolean ok = healthy.getAsBoolean();
                    respond(ctx, keepAlive, response(ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, JSON_TYPE,
                            Unpooled.copiedBuffer("{\"status\": \"" + (ok ? "ok" : "unavailable") + "\"}", StandardCharsets.UTF_8)));
                }
                case "/metrics" -> {
                    if (authorized(ctx, request, keepAlive)) {
                        respond(ctx, keepAlive, response(HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8",
                                Unpooled.wrappedBuffer(metrics.scrape())));
                    }
                }
                default -> respond(ctx, keepAlive, error(HttpResponseStatus.NOT_FOUND, "no such path: " + path,
                        "POST /get-online-features, GET /health or GET /metrics"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("HTTP connection failed", cause);
            ctx.close();
        }
    }

    private boolean authorized(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
        if (tokens.isEmpty() || tokens.get().accepts(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            return true;
        }
        FullHttpResponse refused = error(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token", "send the header Authorization: Bearer TOKEN");
        refused.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        respond(ctx, keepAlive, refused);
        return false;
    }

    private void onlineFeatures(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
        long start = System.nanoTime();
        if (!authorized(ctx, request, keepAlive)) {
            metrics.failed("http", "401", System.nanoTime() - start);
            return;
        }
        if (!request.method().equals(HttpMethod.POST)) {
            respond(ctx, keepAlive, error(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST for /get-online-features", ""));
            return;
        }
        byte[] body = ByteBufUtil.getBytes(request.content());
        if (lookups == null) {
            respond(ctx, keepAlive, answer(ctx, body, start));
            return;
        }
        try {
            lookups.execute(() -> respond(ctx, keepAlive, answer(ctx, body, start)));
        } catch (RejectedExecutionException e) {
            respond(ctx, false, error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the feature server is stopping", "ask again once it runs"));
        }
    }

    /** The answer to a lookup request: the features as Feast's JSON, or the error, counted either way. */
    private FullHttpResponse answer(ChannelHandlerContext ctx, byte[] body, long start) {
        GetOnlineFeaturesResponse response;
        try {
            response = features.get(JsonFeatures.request(body));
        } catch (RuntimeException e) {
            int status = io.granary.common.rpc.RpcErrors.httpStatus(e);
            metrics.failed("http", String.valueOf(status), System.nanoTime() - start);
            GranaryException granary = e instanceof GranaryException g ? g : null;
            return error(HttpResponseStatus.valueOf(status), granary != null ? granary.getMessage() : "internal error: " + e,
                    granary != null ? granary.hint() : "");
        }
        ByteBuf json = ctx.alloc().buffer(256);
        try (ByteBufOutputStream out = new ByteBufOutputStream(json)) {
            JsonFeatures.write(response, out);
        } catch (IOException | RuntimeException e) {
            json.release();
            metrics.failed("http", "500", System.nanoTime() - start);
            return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e, "");
        }
        metrics.answered("http", System.nanoTime() - start);
        return response(HttpResponseStatus.OK, JSON_TYPE, json);
    }

    private static FullHttpResponse error(HttpResponseStatus status, String message, String hint) {
        ObjectNode body = JsonFeatures.JSON.createObjectNode().put("error", message);
        if (!hint.isEmpty()) {
            body.put("hint", hint);
        }
        try {
            return response(status, JSON_TYPE, Unpooled.wrappedBuffer(JsonFeatures.JSON.writeValueAsBytes(body)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static FullHttpResponse response(HttpResponseStatus status, String type, ByteBuf body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type).setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        return response;
    }

    /** Sends an answer; the connection stays open for the next request unless the client asked to close it (or it cannot be reused). */
    private static void respond(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse response) {
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        listening.close().syncUninterruptibly();
        loops.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
