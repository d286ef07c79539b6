package io.granary.cache.daemon;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.granary.cache.NodeCache;
import io.granary.cache.store.Owner;
import io.granary.common.GranaryException;
import io.granary.common.rpc.BearerTokens;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's cache daemon (`granary serve cache`): granary.cache.v1.NodeCacheService over gRPC,
 * and HTTP for /metrics (Prometheus) and /health. It records where it listens under the cache
 * root so that the CLI on this node finds it; other processes may still use the cache directly
 * (the metadata store keeps them all within the one quota).
 */
public final class CacheDaemon implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CacheDaemon.class);

    private final NodeCache cache;
    private final ExecutorService workers;
    private final ScheduledExecutorService ticker;
    private final Server grpc;
    private final HttpServer http;
    private final CacheMetrics metrics;
    private final Optional<BearerTokens> tokens;

    public CacheDaemon(NodeCache cache, DaemonSettings settings) {
        this.cache = cache;
        DaemonFile.running(cache.settings().root()).ifPresent(other -> {
            throw new GranaryException(GranaryException.Kind.CONFLICT, "a cache daemon already runs for " + cache.settings().root()
                    + " (pid " + other.pid() + ", gRPC " + other.target() + ")", "one daemon serves a cache root; stop that one first", null);
        });
        this.tokens = settings.token().map(BearerTokens::new);
        this.metrics = new CacheMetrics(cache::status);
        AtomicInteger threads = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "granary-cache-worker-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "granary-cache-progress");
            thread.setDaemon(true);
            return thread;
        });
        var service = new CacheRpcService(cache, metrics, workers, ticker).bindService();
        try {
            this.grpc = NettyServerBuilder.forAddress(new InetSocketAddress(settings.host(), settings.port()))
                    .addService(tokens.isPresent() ? ServerInterceptors.intercept(service, tokens.get()) : service)
                    .build().start();
        } catch (IOException e) {
            shutdownPools();
            throw cannotListen("gRPC", settings.host(), settings.port(), e);
        }
        try {
            this.http = HttpServer.create(new InetSocketAddress(settings.host(), settings.httpPort()), 64);
        } catch (IOException e) {
            grpc.shutdownNow();
            shutdownPools();
            throw cannotListen("HTTP", settings.host(), settings.httpPort(), e);
        }
        http.createContext("/metrics", this::metrics);
        http.createContext("/health", this::health);
        http.setExecutor(workers);
        http.start();
        try {
            DaemonFile.write(cache.settings().root(), new DaemonFile.Address(settings.host(), grpc.getPort(), http.getAddress().getPort(),
                    ProcessHandle.current().pid(), Owner.thisProcess().startMillis()));
        } catch (IOException e) {
            close();
            throw new GranaryException("cannot write daemon.json under " + cache.settings().root() + ": " + e.getMessage(),
                    "check that the cache root is writable", e);
        }
        LOG.info("cache daemon for {} listening on {}:{} (gRPC) and {} (HTTP)", cache.settings().root(), settings.host(), grpc.getPort(),
                http.getAddress().getPort());
    }

    private static GranaryException cannotListen(String what, String host, int port, IOException e) {
        boolean inUse = e instanceof BindException || e.getCause() instanceof BindException;
        return new GranaryException(GranaryException.Kind.UNAVAILABLE,
                "cannot listen for " + what + " on " + host + ":" + port + (inUse ? ": the port is in use" : ": " + e.getMessage()),
                "choose another port (--port / --http-port, or cache.daemon in granary.yaml), or stop what listens there", e);
    }

    public int port() {
        return grpc.getPort();
    }

    public int httpPort() {
        return http.getAddress().getPort();
    }

    private void metrics(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (tokens.isPresent() && !tokens.get().accepts(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
                send(exchange, 401, "text/plain; charset=utf-8", "missing or wrong bearer token: send Authorization: Bearer TOKEN\n");
                return;
            }
            byte[] body;
            try {
                body = metrics.scrape();
            } catch (RuntimeException e) {
                send(exchange, 503, "text/plain; charset=utf-8", "cannot read the cache: " + e.getMessage() + "\n");
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private void health(HttpExchange exchange) throws IOException {
        try (exchange) {
            send(exchange, 200, "application/json", "{\"status\": \"ok\", \"root\": \"" + cache.settings().root() + "\"}");
        }
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private void shutdownPools() {
        ticker.shutdownNow();
        // interrupts running stages: each releases its reservations and keeps what it copied
        workers.shutdownNow();
        try {
            workers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        DaemonFile.remove(cache.settings().root(), ProcessHandle.current().pid());
        if (http != null) {
            http.stop(0);
        }
        grpc.shutdown();
        shutdownPools();
        try {
            if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) {
                grpc.shutdownNow();
            }
        } catch (InterruptedException e) {
            grpc.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
