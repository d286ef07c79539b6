package io.granary.cache.stream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.granary.common.GranaryException;
import io.granary.common.rpc.BearerTokens;
import io.granary.common.rpc.RpcErrors;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;

/**
 * The HTTP side of `granary serve data`. GET /v1/stream?dataset=...&rank=0&world_size=2&...: one
 * rank's stream (or, with mode=dynamic and worker=ID, one worker's leased units) as
 * {@code application/vnd.apache.arrow.stream} (the Arrow IPC stream format), so curl or any Arrow
 * library reads it without Flight. The query parameters are the descriptor's keys, plus rank or
 * worker. GET /metrics (Prometheus) and /health too.
 */
final class HttpStreams implements AutoCloseable {

    static final String ARROW_STREAM = "application/vnd.apache.arrow.stream";

    private final HttpServer server;
    private final ExecutorService threads;
    private final StreamService service;
    private final Optional<BearerTokens> token;

    HttpStreams(String host, int port, StreamService service, Optional<String> token) throws IOException {
        this.service = service;
        this.token = token.map(BearerTokens::new);
        this.server = HttpServer.create(new InetSocketAddress(host, port), 64);
        this.threads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "granary-http-stream");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(threads);
        server.createContext("/v1/stream", this::stream);
        server.createContext("/metrics", this::metrics);
        server.createContext("/health", this::health);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private boolean authorized(HttpExchange exchange) throws IOException {
        if (token.isPresent() && !token.get().accepts(exchange.getRequestHeaders().getFirst("Authorization"))) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            error(exchange, 401, "this data server requires a bearer token (Authorization: Bearer TOKEN; stream.token or GRANARY_STREAM_TOKEN)");
            return false;
        }
        return true;
    }

    private void stream(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                error(exchange, 405, "use GET for /v1/stream");
                return;
            }
            if (!authorized(exchange)) {
                return;
            }
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            StreamRequest pinned;
            int rank;
            String worker;
            try {
                String rankText = query.remove("rank");
                worker = Optional.ofNullable(query.remove("worker")).orElse("");
                rank = rankText == null ? 0 : parseRank(rankText);
                pinned = service.pin(StreamRequest.fromQuery(query));
                if (pinned.mode() == StreamRequest.Mode.DYNAMIC && worker.isBlank()) {
                    throw new GranaryException("query parameter 'worker' is missing: a dynamic stream is read by named workers",
                            "add worker=ID, one id per worker (e.g. its rank)");
                }
                service.check(pinned, rank);
            } catch (GranaryException e) {
                error(exchange, RpcErrors.httpStatus(e), e.getMessage() + (e.hint().isEmpty() ? "" : " (" + e.hint() + ")"));
                return;
            }
            // from here on the status is sent: a failure part way ends the response early, and the client sees a stream cut short
            exchange.getResponseHeaders().set("Content-Type", ARROW_STREAM);
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream body = exchange.getResponseBody()) {
                service.serve(pinned, rank, worker, new StreamService.BatchSink() {
                    private ArrowStreamWriter writer;

                    @Override
                    public void start(VectorSchemaRoot batch) {
                        writer = new ArrowStreamWriter(batch, null, body);
                        try {
                            writer.start();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }

                    @Override
                    public boolean awaitReady() {
                        return true; // writes block while the client does not read
                    }

                    @Override
                    public void send() {
                        try {
                            writer.writeBatch();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }

                    @Override
                    public void completed() {
                        try {
                            writer.end();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }, "http");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (UncheckedIOException | GranaryException e) {
                // the client went away, or the stream failed after its 200: the response ends short
            }
        }
    }

    private void metrics(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!authorized(exchange)) {
                return;
            }
            byte[] body = service.metrics().scrape();
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private void health(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = "ok\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private static int parseRank(String text) {
        if (!text.matches("\\d{1,7}")) {
            throw new GranaryException("query parameter 'rank' must be a whole number, not '" + text + "'", "ranks are 0 to world_size - 1");
        }
        return Integer.parseInt(text);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> parameters = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return parameters;
        }
        for (String pair : raw.split("&")) {
            int equals = pair.indexOf('=');
            String key = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
            String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
            parameters.put(key, value);
        }
        return parameters;
    }

    private static void error(HttpExchange exchange, int status, String message) throws IOException {
        byte[] body = ("{\"error\": " + com.fasterxml.jackson.databind.node.TextNode.valueOf(message) + "}\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
