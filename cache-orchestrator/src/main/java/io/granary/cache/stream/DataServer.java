package io.granary.cache.stream;

import io.granary.cache.NodeCache;
import io.granary.common.GranaryException;
import java.io.IOException;
import io.granary.common.rpc.BearerTokens;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.auth2.CallHeaderAuthenticator;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * `granary serve data`: Arrow record batches of dataset snapshots from the node's cache over Arrow
 * Flight (see {@link DataFlightProducer}), and over HTTP as Arrow IPC streams ({@link HttpStreams}).
 */
public final class DataServer implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DataServer.class);

    static {
        // batches go to gRPC as the vectors' own buffers rather than a copy of them: a stream's buffers are never written
        // again once sent (later rows of a row group are decoded past them), and Flight holds them until they are written
        if (System.getProperty("arrow.flight.enable_zero_copy_write") == null) {
            System.setProperty("arrow.flight.enable_zero_copy_write", "true");
        }
    }

    private final BufferAllocator allocator;
    private final FlightServer flight;
    private final HttpStreams http;
    private final SnapshotStreams streams;
    private final StreamService service;

    /** Flight only, on {@code port}, with the default settings. */
    public DataServer(NodeCache cache, String host, int port) {
        this(cache, StreamSettings.defaults().withListen(host, port, -1));
    }

    /** Flight on {@code port}, and HTTP on {@code httpPort} unless it is negative, with the default settings. */
    public DataServer(NodeCache cache, String host, int port, int httpPort) {
        this(cache, StreamSettings.defaults().withListen(host, port, httpPort));
    }

    /** As the settings say: Flight on their port, HTTP on their http_port unless it is negative. */
    public DataServer(NodeCache cache, StreamSettings settings) {
        this.allocator = new RootAllocator(settings.memory());
        this.streams = new SnapshotStreams(cache);
        this.service = new StreamService(streams, settings, allocator);
        String host = settings.host();
        try {
            FlightServer.Builder builder = FlightServer.builder(allocator, Location.forGrpcInsecure(host, settings.port()), new DataFlightProducer(service));
            settings.token().ifPresent(token -> builder.headerAuthenticator(bearer(token)));
            this.flight = builder.build().start();
        } catch (IOException e) {
            service.close();
            streams.close();
            allocator.close();
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot listen for Arrow Flight on " + host + ":" + settings.port() + ": "
                    + e.getMessage(), "choose another port (--port), or stop what listens there", e);
        }
        if (settings.httpPort() < 0) {
            this.http = null;
            return;
        }
        try {
            this.http = new HttpStreams(host, settings.httpPort(), service, settings.token());
        } catch (IOException e) {
            close();
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot listen for HTTP on " + host + ":" + settings.httpPort() + ": "
                    + e.getMessage(), "choose another port (--http-port), or stop what listens there", e);
        }
    }

    /** Flight's check of the "authorization: Bearer TOKEN" header every call carries. */
    private static CallHeaderAuthenticator bearer(String token) {
        BearerTokens tokens = new BearerTokens(token);
        return headers -> {
            if (!tokens.accepts(headers.get("authorization"))) {
                throw CallStatus.UNAUTHENTICATED.withDescription("this data server requires a bearer token (authorization: Bearer TOKEN; "
                        + "stream.token or GRANARY_STREAM_TOKEN on the server)").toRuntimeException();
            }
            return () -> "bearer";
        };
    }

    public int port() {
        return flight.getPort();
    }

    /** The HTTP port, or -1 when HTTP is off. */
    public int httpPort() {
        return http == null ? -1 : http.port();
    }

    @Override
    public void close() {
        if (http != null) {
            http.close();
        }
        service.stop();
        flight.shutdown();
        try {
            // streams under way get a moment to end, then are cancelled; their threads let go of their batches as they stop
            if (!flight.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS)) {
                flight.close();
            }
            service.awaitIdle(java.time.Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        service.close();
        streams.close();
        try {
            allocator.close();
        } catch (IllegalStateException e) {
            // a stream that did not stop in time still holds buffers: the process is ending anyway, and stopping must not fail for it
            LOG.warn("the data server stopped with {} bytes of Arrow memory still held by a stream", allocator.getAllocatedMemory());
        }
    }
}
