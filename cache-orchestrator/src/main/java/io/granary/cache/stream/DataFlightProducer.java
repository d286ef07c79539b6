package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Arrow Flight side of `granary serve data`. A stream is named by a command descriptor whose
 * bytes are the JSON of a {@link StreamRequest}: GetFlightInfo pins it to the snapshot its ref
 * names, plans the epoch and answers the schema, the total rows and one endpoint per rank (endpoint
 * i for rank i); DoGet of an endpoint's ticket sends that rank's rows.
 */
final class DataFlightProducer extends NoOpFlightProducer {

    private static final Logger LOG = LoggerFactory.getLogger(DataFlightProducer.class);

    private static final int PLANS_KEPT = 64;

    private final SnapshotStreams streams;
    private final BufferAllocator allocator;
    /** Plans of pinned requests: every rank's DoGet follows the job's one GetFlightInfo, and a plan reads the catalog and the footers. */
    private final java.util.Map<String, SnapshotStreams.Planned> plans = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<String, SnapshotStreams.Planned> eldest) {
                    return size() > PLANS_KEPT;
                }
            });

    DataFlightProducer(SnapshotStreams streams, BufferAllocator allocator) {
        this.streams = streams;
        this.allocator = allocator;
    }

    @Override
    public FlightInfo getFlightInfo(CallContext context, FlightDescriptor descriptor) {
        try {
            if (!descriptor.isCommand()) {
                throw new GranaryException("a stream is named by a command descriptor (the JSON of the stream), not a path",
                        "send FlightDescriptor.command(json bytes)");
            }
            StreamRequest pinned = streams.pin(StreamRequest.fromJson(descriptor.getCommand()));
            SnapshotStreams.Planned planned = plan(pinned);
            Schema schema = planned.schema();
            List<FlightEndpoint> endpoints = new ArrayList<>();
            long total = 0;
            for (int rank = 0; rank < pinned.worldSize(); rank++) {
                endpoints.add(new FlightEndpoint(new Ticket(ticket(rank, pinned))));
                total += planned.rank(rank).rows();
            }
            return new FlightInfo(schema, descriptor, endpoints, -1, total);
        } catch (RuntimeException e) {
            throw status(e);
        }
    }

    @Override
    public void getStream(CallContext context, Ticket ticket, ServerStreamListener listener) {
        try {
            String text = new String(ticket.getBytes(), StandardCharsets.UTF_8);
            int colon = text.indexOf(':');
            if (colon <= 0 || !text.substring(0, colon).matches("\\d{1,7}")) {
                throw new GranaryException("not a ticket of this server", "take tickets from GetFlightInfo's endpoints");
            }
            int rank = Integer.parseInt(text.substring(0, colon));
            StreamRequest pinned = StreamRequest.fromJson(text.substring(colon + 1).getBytes(StandardCharsets.UTF_8));
            SnapshotStreams.Planned planned = plan(pinned);
            try (RankStream stream = streams.open(planned, rank, allocator);
                 VectorSchemaRoot batch = VectorSchemaRoot.create(stream.schema(), allocator)) {
                listener.start(batch);
                while (stream.next(batch)) {
                    // a slow consumer holds the next batch here: the server never runs ahead of it by more than the transport's window
                    while (!listener.isReady() && !listener.isCancelled()) {
                        Thread.sleep(1);
                    }
                    if (listener.isCancelled()) {
                        return;
                    }
                    listener.putNext();
                }
                listener.completed();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            listener.error(CallStatus.CANCELLED.withDescription("the server is stopping").toRuntimeException());
        } catch (RuntimeException e) {
            listener.error(status(e));
        }
    }

    /**
     * The plan of a pinned request, made once: a pinned snapshot never changes. (Its files stay
     * cached unless evicted; a plan whose files were evicted is made again.)
     */
    SnapshotStreams.Planned plan(StreamRequest pinned) {
        String key = new String(pinned.toJson(), StandardCharsets.UTF_8);
        SnapshotStreams.Planned kept = plans.get(key);
        if (kept != null && streams.cached(kept)) {
            return kept;
        }
        SnapshotStreams.Planned planned = streams.plan(pinned);
        plans.put(key, planned);
        return planned;
    }

    /** The ticket of rank {@code rank}: "RANK:" and the pinned request's JSON. */
    static byte[] ticket(int rank, StreamRequest pinned) {
        return (rank + ":" + new String(pinned.toJson(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
    }

    private static RuntimeException status(RuntimeException e) {
        if (e instanceof GranaryException granary) {
            String message = granary.getMessage() + (granary.hint().isEmpty() ? "" : " (" + granary.hint() + ")");
            CallStatus status = switch (granary.kind()) {
                case NOT_FOUND -> CallStatus.NOT_FOUND;
                case UNAVAILABLE -> CallStatus.UNAVAILABLE;
                case CONFLICT, ALREADY_EXISTS -> CallStatus.INVALID_ARGUMENT;
                case INVALID_INPUT -> CallStatus.INVALID_ARGUMENT;
            };
            return status.withDescription(message).toRuntimeException();
        }
        if (e instanceof org.apache.arrow.flight.FlightRuntimeException flight) {
            return flight;
        }
        LOG.error("stream failed", e);
        return CallStatus.INTERNAL.withDescription("internal error: " + e).withCause(e).toRuntimeException();
    }
}
