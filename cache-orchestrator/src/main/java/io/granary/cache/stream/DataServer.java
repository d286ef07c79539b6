package io.granary.cache.stream;

import io.granary.cache.NodeCache;
import io.granary.common.GranaryException;
import java.io.IOException;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * `granary serve data`: Arrow record batches of dataset snapshots from the node's cache over Arrow
 * Flight (see {@link DataFlightProducer}), and over HTTP as Arrow IPC streams ({@link HttpStreams}).
 */
public final class DataServer implements AutoCloseable {

    private final BufferAllocator allocator;
    private final FlightServer flight;
    private final HttpStreams http;

    /** Flight only. */
    public DataServer(NodeCache cache, String host, int port) {
        this(cache, host, port, -1);
    }

    /** Flight on {@code port}, and HTTP on {@code httpPort} unless it is negative. */
    public DataServer(NodeCache cache, String host, int port, int httpPort) {
        this.allocator = new RootAllocator();
        SnapshotStreams streams = new SnapshotStreams(cache);
        DataFlightProducer producer = new DataFlightProducer(streams, allocator);
        try {
            this.flight = FlightServer.builder(allocator, Location.forGrpcInsecure(host, port), producer).build().start();
        } catch (IOException e) {
            allocator.close();
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot listen for Arrow Flight on " + host + ":" + port + ": "
                    + e.getMessage(), "choose another port (--port), or stop what listens there", e);
        }
        if (httpPort < 0) {
            this.http = null;
            return;
        }
        try {
            this.http = new HttpStreams(host, httpPort, streams, producer, allocator);
        } catch (IOException e) {
            close();
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot listen for HTTP on " + host + ":" + httpPort + ": "
                    + e.getMessage(), "choose another port (--http-port), or stop what listens there", e);
        }
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
        flight.shutdown();
        try {
            if (!flight.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS)) {
                flight.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        allocator.close();
    }
}
