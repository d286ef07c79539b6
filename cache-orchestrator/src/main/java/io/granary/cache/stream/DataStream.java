package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.auth2.BearerCredentialWriter;
import org.apache.arrow.flight.grpc.CredentialCallOption;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A JVM trainer's stream from `granary serve data`: one rank's rows (static mode) or one worker's
 * leased units (dynamic mode: one DoExchange for the epoch, each unit acknowledged once its last
 * batch was read, so the server sends the next unit while this one is read, and takes back what
 * was not read when the stream is closed early), batch by batch.
 *
 * <pre>{@code
 * StreamRequest request = StreamRequest.of("demo.ctr_samples_train", worldSize).with("epoch", epoch).with("shuffle", "units");
 * try (DataStream stream = DataStream.open(DataStream.Server.local(), request, rank)) {
 *     while (stream.next()) {
 *         VectorSchemaRoot batch = stream.batch();   // valid until the next call
 *         ...
 *     }
 * }
 * }</pre>
 *
 * Not thread-safe; one per worker.
 */
public final class DataStream implements AutoCloseable {

    /** Where the data server listens, and the bearer token it wants, if any. */
    public record Server(String host, int port, Optional<String> token) {
        public static Server local() {
            return new Server("127.0.0.1", StreamSettings.DEFAULT_PORT, Optional.empty());
        }

        public Server withToken(String value) {
            return new Server(host, port, Optional.of(value));
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    private final Server server;
    private final BufferAllocator allocator;
    private final FlightClient client;
    private final CallOption[] options;
    private final FlightInfo info;
    private final Ticket ticket;
    private final boolean dynamic;
    private FlightStream current;
    private FlightClient.ExchangeReaderWriter exchange;
    private boolean done;

    private DataStream(Server server, StreamRequest request, int rank, String worker, BufferAllocator parent) {
        this.server = server;
        this.allocator = parent == null ? new RootAllocator() : parent.newChildAllocator("granary-data-stream", 0, parent.getLimit());
        this.client = FlightClient.builder(allocator, Location.forGrpcInsecure(server.host(), server.port())).build();
        this.options = server.token().map(token -> new CallOption[] {new CredentialCallOption(new BearerCredentialWriter(token))})
                .orElse(new CallOption[0]);
        this.dynamic = request.mode() == StreamRequest.Mode.DYNAMIC;
        try {
            this.info = client.getInfo(FlightDescriptor.command(request.toJson()), options);
            if (dynamic) {
                // the server's pinned request, with this worker's own id
                StreamRequest pinned = StreamRequest.fromJson(new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(info.getEndpoints().get(0).getTicket().getBytes()).get("request").toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                this.ticket = new Ticket(DataFlightProducer.workerTicket(worker, pinned));
            } else {
                if (rank < 0 || rank >= info.getEndpoints().size()) {
                    throw new GranaryException("rank " + rank + " is out of range for world_size " + request.worldSize(), "ranks are 0 to world_size - 1");
                }
                this.ticket = info.getEndpoints().get(rank).getTicket();
            }
        } catch (FlightRuntimeException e) {
            closeQuietly();
            throw translate(e, server);
        } catch (java.io.IOException | RuntimeException e) {
            closeQuietly();
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
    }

    /** Rank {@code rank}'s rows of a static stream. */
    public static DataStream open(Server server, StreamRequest request, int rank) {
        return new DataStream(server, request, rank, "", null);
    }

    /** As {@link #open(Server, StreamRequest, int)}, the batches in buffers of {@code allocator} (to move them into the caller's vectors). */
    public static DataStream open(Server server, StreamRequest request, int rank, BufferAllocator allocator) {
        return new DataStream(server, request, rank, "", allocator);
    }

    /** The units worker {@code worker} leases in a dynamic stream, until the epoch is done. */
    public static DataStream openWorker(Server server, StreamRequest request, String worker) {
        return openWorker(server, request, worker, null);
    }

    /** As {@link #openWorker(Server, StreamRequest, String)}, the batches in buffers of {@code allocator}. */
    public static DataStream openWorker(Server server, StreamRequest request, String worker, BufferAllocator allocator) {
        if (request.mode() != StreamRequest.Mode.DYNAMIC) {
            throw new GranaryException("openWorker reads dynamic streams", "set \"mode\": \"dynamic\", or use open(server, request, rank)");
        }
        return new DataStream(server, request, 0, worker, allocator);
    }

    /** The schema of every batch. */
    public Schema schema() {
        return info.getSchema();
    }

    /** Rows of the whole stream: all ranks together (static), or the epoch (dynamic). */
    public long totalRows() {
        return info.getRecords();
    }

    /** Moves to the next batch; false when this rank's (or worker's) rows are all read. */
    public boolean next() {
        try {
            return dynamic ? nextOfExchange() : nextOfRank();
        } catch (FlightRuntimeException e) {
            throw translate(e, server);
        }
    }

    private boolean nextOfRank() {
        if (done) {
            return false;
        }
        if (current == null) {
            current = client.getStream(ticket, options);
        }
        if (current.next()) {
            return true;
        }
        closeCurrent();
        done = true;
        return false;
    }

    /**
     * The next batch of the worker's exchange. A message without rows ends a unit: being asked for
     * the batch after it means the trainer is done with the unit, so its end message goes back as
     * the acknowledgement.
     */
    private boolean nextOfExchange() {
        if (done) {
            return false;
        }
        if (exchange == null) {
            exchange = client.doExchange(FlightDescriptor.command(ticket.getBytes()), options);
        }
        FlightStream reader = exchange.getReader();
        while (reader.next()) {
            if (reader.getRoot().getRowCount() > 0) {
                return true;
            }
            ArrowBuf end = reader.getLatestMetadata();
            if (end != null) {
                ArrowBuf acknowledgement = allocator.buffer(end.readableBytes());
                acknowledgement.setBytes(0, end, 0, end.readableBytes());
                acknowledgement.writerIndex(end.readableBytes());
                exchange.getWriter().putMetadata(acknowledgement); // Flight frees it once sent
            }
        }
        done = true;
        closeExchange(false);
        return false;
    }

    /** The current batch; valid until the next call to {@link #next}. */
    public VectorSchemaRoot batch() {
        FlightStream reader = exchange != null ? exchange.getReader() : current;
        if (reader == null) {
            throw new IllegalStateException("call next() first");
        }
        return reader.getRoot();
    }

    /**
     * Ends the worker's exchange. Stopping early, it tells the server it reads no more (the units it
     * did not acknowledge go back to the epoch) and lets the rows already under way pass.
     */
    private void closeExchange(boolean early) {
        if (exchange == null) {
            return;
        }
        FlightClient.ExchangeReaderWriter ending = exchange;
        exchange = null;
        try (ending) {
            if (early) {
                ending.getWriter().completed();
                FlightStream reader = ending.getReader();
                while (reader.next()) {
                    // rows of a unit that now goes to another worker
                }
            }
        } catch (FlightRuntimeException e) {
            throw translate(e, server);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void closeCurrent() {
        if (current != null) {
            try {
                current.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                current = null;
            }
        }
    }

    static GranaryException translate(FlightRuntimeException e, Server server) {
        FlightStatusCode code = e.status().code();
        if (code == FlightStatusCode.UNAVAILABLE && e.getMessage() != null && e.getMessage().contains("io exception")) {
            return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot reach the data server at " + server + ": " + e.getMessage(),
                    "start it with `granary serve data`, or check the host and port", e);
        }
        if (code == FlightStatusCode.UNAUTHENTICATED) {
            return new GranaryException("the data server at " + server + " wants a bearer token: " + e.getMessage(),
                    "set stream.token in granary.yaml or GRANARY_STREAM_TOKEN to the server's token", e);
        }
        GranaryException.Kind kind = switch (code) {
            case NOT_FOUND -> GranaryException.Kind.NOT_FOUND;
            case UNAVAILABLE -> GranaryException.Kind.UNAVAILABLE;
            default -> GranaryException.Kind.INVALID_INPUT;
        };
        return new GranaryException(kind, "the data server at " + server + " says: " + e.getMessage(), "see the stream descriptor in the README", e);
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException ignored) {
            // the error that got us here matters more
        }
    }

    @Override
    public void close() {
        List<Exception> failures = new ArrayList<>();
        try {
            if (current != null) {
                current.cancel("closed", null);
            }
            closeCurrent();
        } catch (RuntimeException e) {
            failures.add(e);
        }
        try {
            closeExchange(!done);
        } catch (RuntimeException e) {
            failures.add(e);
        }
        try {
            client.close();
        } catch (Exception e) {
            failures.add(e);
        }
        allocator.close();
        if (!failures.isEmpty()) {
            throw new IllegalStateException("closing the stream failed", failures.get(0));
        }
    }
}
