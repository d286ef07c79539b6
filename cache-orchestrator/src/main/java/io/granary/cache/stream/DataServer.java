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
 * Flight (see {@link DataFlightProducer}).
 */
public final class DataServer implements AutoCloseable {

    private final BufferAllocator allocator;
    private final FlightServer flight;

    public DataServer(NodeCache cache, String host, int port) {
        this.allocator = new RootAllocator();
        try {
            this.flight = FlightServer.builder(allocator, Location.forGrpcInsecure(host, port),
                    new DataFlightProducer(new TableStreams(cache), allocator)).build().start();
        } catch (IOException e) {
            allocator.close();
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot listen for Arrow Flight on " + host + ":" + port + ": "
                    + e.getMessage(), "choose another port (--port), or stop what listens there", e);
        }
    }

    public int port() {
        return flight.getPort();
    }

    /** Blocks until the server is shut down. */
    public void awaitTermination() throws InterruptedException {
        flight.awaitTermination();
    }

    @Override
    public void close() {
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
