package io.granary.cache.stream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.granary.common.GranaryException;
import io.granary.common.rpc.RpcErrors;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;

/**
 * GET /v1/stream?dataset=...&rank=0&world_size=2&...: one rank's stream as
 * {@code application/vnd.apache.arrow.stream} (the Arrow IPC stream format), so curl or any Arrow
 * library reads it without Flight. The query parameters are the descriptor's keys, plus rank.
 */
final class HttpStreams implements AutoCloseable {

    static final String ARROW_STREAM = "application/vnd.apache.arrow.stream";

    private final HttpServer server;
    private final ExecutorService threads;
    private final SnapshotStreams streams;
    private final DataFlightProducer plans;
    private final BufferAllocator allocator;

    HttpStreams(String host, int port, SnapshotStreams streams, DataFlightProducer plans, BufferAllocator allocator) throws IOException {
        this.streams = streams;
        this.plans = plans;
        this.allocator = allocator;
        this.server = HttpServer.create(new InetSocketAddress(host, port), 64);
        this.threads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "granary-http-stream");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(threads);
        server.createContext("/v1/stream", this::stream);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void stream(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                error(exchange, 405, "use GET for /v1/stream");
                return;
            }
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            RankStream stream;
            try {
                String rankText = query.remove("rank");
                int rank = rankText == null ? 0 : parseRank(rankText);
                SnapshotStreams.Planned planned = plans.plan(streams.pin(StreamRequest.fromQuery(query)));
                stream = streams.open(planned, rank, allocator);
            } catch (GranaryException e) {
                error(exchange, RpcErrors.httpStatus(e), e.getMessage() + (e.hint().isEmpty() ? "" : " (" + e.hint() + ")"));
                return;
            }
            // from here on the status is sent: a failure part way ends the response early, and the client sees a stream cut short
            try (stream; VectorSchemaRoot batch = VectorSchemaRoot.create(stream.schema(), allocator)) {
                exchange.getResponseHeaders().set("Content-Type", ARROW_STREAM);
                exchange.sendResponseHeaders(200, 0);
                try (OutputStream body = exchange.getResponseBody();
                     ArrowStreamWriter writer = new ArrowStreamWriter(batch, null, body)) {
                    writer.start();
                    while (stream.next(batch)) {
                        writer.writeBatch();
                    }
                    writer.end();
                }
            }
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
