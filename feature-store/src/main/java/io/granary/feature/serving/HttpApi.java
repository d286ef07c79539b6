package io.granary.feature.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import io.granary.common.GranaryException;
import io.granary.common.rpc.BearerTokens;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** The HTTP side of the feature server: POST /get-online-features, GET /health, GET /metrics. */
final class HttpApi implements AutoCloseable {

    private static final int MAX_BODY = 16 << 20;

    private final HttpServer server;
    private final ExecutorService executor;
    private final OnlineFeatures features;
    private final ServingMetrics metrics;
    private final Optional<BearerTokens> tokens;
    private final BooleanSupplier healthy;

    HttpApi(String host, int port, OnlineFeatures features, ServingMetrics metrics, Optional<BearerTokens> tokens,
            BooleanSupplier healthy) throws IOException {
        this.features = features;
        this.metrics = metrics;
        this.tokens = tokens;
        this.healthy = healthy;
        AtomicInteger threads = new AtomicInteger();
        int size = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
        this.executor = new ThreadPoolExecutor(size, size, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000), runnable -> {
            Thread thread = new Thread(runnable, "granary-http-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.server = HttpServer.create(new InetSocketAddress(host, port), 1024);
        server.setExecutor(executor);
        server.createContext("/get-online-features", this::onlineFeatures);
        server.createContext("/health", this::health);
        server.createContext("/metrics", this::metrics);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private boolean authorized(HttpExchange exchange) throws IOException {
        if (tokens.isEmpty() || tokens.get().accepts(exchange.getRequestHeaders().getFirst("Authorization"))) {
            return true;
        }
        exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
        error(exchange, 401, "missing or wrong bearer token", "send the header Authorization: Bearer TOKEN");
        return false;
    }

    private void onlineFeatures(HttpExchange exchange) throws IOException {
        long start = System.nanoTime();
        try (exchange) {
            if (!authorized(exchange)) {
                metrics.failed("http", "401", System.nanoTime() - start);
                return;
            }
            if (!exchange.getRequestMethod().equals("POST")) {
                error(exchange, 405, "use POST for /get-online-features", "");
                return;
            }
            byte[] body = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                error(exchange, 413, "the request body is larger than 16 MiB", "send fewer entities per request");
                return;
            }
            GetOnlineFeaturesResponse response;
            try {
                response = features.get(JsonFeatures.request(body));
            } catch (RuntimeException e) {
                int status = io.granary.common.rpc.RpcErrors.httpStatus(e);
                metrics.failed("http", String.valueOf(status), System.nanoTime() - start);
                GranaryException granary = e instanceof GranaryException g ? g : null;
                error(exchange, status, granary != null ? granary.getMessage() : "internal error: " + e, granary != null ? granary.hint() : "");
                return;
            }
            ByteArrayOutputStream json = new ByteArrayOutputStream(256);
            JsonFeatures.write(response, json);
            send(exchange, 200, "application/json", json.toByteArray());
            metrics.answered("http", System.nanoTime() - start);
        }
    }

    private void health(HttpExchange exchange) throws IOException {
        try (exchange) {
            boolean ok = healthy.getAsBoolean();
            send(exchange, ok ? 200 : 503, "application/json", ("{\"status\": \"" + (ok ? "ok" : "unavailable") + "\"}").getBytes());
        }
    }

    private void metrics(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (authorized(exchange)) {
                send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
            }
        }
    }

    private static void error(HttpExchange exchange, int status, String message, String hint) throws IOException {
        ObjectNode body = JsonFeatures.JSON.createObjectNode().put("error", message);
        if (!hint.isEmpty()) {
            body.put("hint", hint);
        }
        send(exchange, status, "application/json", JsonFeatures.JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
