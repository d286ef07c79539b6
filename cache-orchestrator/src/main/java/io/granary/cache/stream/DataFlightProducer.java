package io.granary.cache.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Arrow Flight side of `granary serve data`. A stream is named by a command descriptor whose
 * bytes are the JSON of a {@link StreamRequest}: GetFlightInfo pins it to the snapshot its ref
 * names, plans the epoch and answers the schema, the total rows and {@code world_size} endpoints.
 * In static mode endpoint i is rank i's rows; in dynamic mode it is worker i's, which leases units
 * until the epoch is done. A ticket is JSON too: {@code {"rank": R, "request": {...}}} or
 * {@code {"worker": "ID", "request": {...}}}, so a dynamic worker may also name itself.
 */
final class DataFlightProducer extends NoOpFlightProducer {

    private static final Logger LOG = LoggerFactory.getLogger(DataFlightProducer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final StreamService service;

    DataFlightProducer(StreamService service) {
        this.service = service;
    }

    @Override
    public FlightInfo getFlightInfo(CallContext context, FlightDescriptor descriptor) {
        try {
            if (!descriptor.isCommand()) {
                throw new GranaryException("a stream is named by a command descriptor (the JSON of the stream), not a path",
                        "send FlightDescriptor.command(json bytes)");
            }
            StreamRequest pinned = service.pin(StreamRequest.fromJson(descriptor.getCommand()));
            SnapshotStreams.Planned planned = service.plan(pinned);
            List<FlightEndpoint> endpoints = new ArrayList<>();
            boolean dynamic = pinned.mode() == StreamRequest.Mode.DYNAMIC;
            long total = dynamic ? planned.epoch().totalRows() : 0;
            for (int rank = 0; rank < pinned.worldSize(); rank++) {
                endpoints.add(new FlightEndpoint(new Ticket(dynamic ? workerTicket(Integer.toString(rank), pinned) : ticket(rank, pinned))));
                if (!dynamic) {
                    total += planned.rank(rank).rows();
                }
            }
            return new FlightInfo(planned.schema(), descriptor, endpoints, -1, total);
        } catch (RuntimeException e) {
            throw status(e);
        }
    }

    @Override
    public void getStream(CallContext context, Ticket ticket, ServerStreamListener listener) {
        try {
            JsonNode root = parseTicket(ticket.getBytes());
            StreamRequest pinned = service.pin(StreamRequest.fromJson(JSON.writeValueAsBytes(root.get("request"))));
            int rank = 0;
            String worker = "";
            if (pinned.mode() == StreamRequest.Mode.DYNAMIC) {
                JsonNode id = root.get("worker");
                if (id == null || !id.isTextual() || id.asText().isBlank()) {
                    throw new GranaryException("a dynamic stream's ticket names its worker: {\"worker\": \"ID\", \"request\": {...}}",
                            "take tickets from GetFlightInfo's endpoints, or give each worker its own id");
                }
                worker = id.asText();
            } else {
                JsonNode number = root.get("rank");
                if (number == null || !number.canConvertToInt()) {
                    throw new GranaryException("a static stream's ticket names its rank: {\"rank\": R, \"request\": {...}}",
                            "take tickets from GetFlightInfo's endpoints");
                }
                rank = number.asInt();
            }
            java.util.concurrent.Semaphore ready = new java.util.concurrent.Semaphore(0);
            listener.setOnReadyHandler(ready::release);
            listener.setOnCancelHandler(ready::release);
            StreamService.Outcome outcome = service.serve(pinned, rank, worker, new StreamService.BatchSink() {
                @Override
                public void start(VectorSchemaRoot batch) {
                    listener.start(batch);
                }

                @Override
                public boolean awaitReady() throws InterruptedException {
                    // a slow consumer holds the next batch here: the server never runs ahead of it by more than the transport's window;
                    // gRPC calls the ready handler when its buffer drains (a short timed wait covers a signal given before the handler was set)
                    while (!listener.isReady() && !listener.isCancelled() && !service.stopping()) {
                        ready.tryAcquire(1, java.util.concurrent.TimeUnit.MILLISECONDS);
                    }
                    ready.drainPermits();
                    return !listener.isCancelled();
                }

                @Override
                public void send() {
                    listener.putNext();
                }

                @Override
                public void completed() {
                    listener.completed();
                }
            }, "flight");
            if (outcome == StreamService.Outcome.CANCELLED && !listener.isCancelled()) {
                // the server is stopping: the consumer is told, rather than left waiting for the rest
                listener.error(CallStatus.UNAVAILABLE.withDescription("the data server is stopping; ask again once it runs").toRuntimeException());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            listener.error(CallStatus.CANCELLED.withDescription("the server is stopping").toRuntimeException());
        } catch (IOException e) {
            listener.error(CallStatus.INVALID_ARGUMENT.withDescription("not a ticket of this server: " + e.getMessage()).toRuntimeException());
        } catch (RuntimeException e) {
            listener.error(status(e));
        }
    }

    private static JsonNode parseTicket(byte[] bytes) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            root = null;
        }
        if (root == null || !root.isObject() || !root.path("request").isObject()) {
            throw new GranaryException("not a ticket of this server: a ticket is {\"rank\": R, \"request\": {...}} "
                    + "or {\"worker\": \"ID\", \"request\": {...}}", "take tickets from GetFlightInfo's endpoints");
        }
        return root;
    }

    /** The ticket of static rank {@code rank}. */
    static byte[] ticket(int rank, StreamRequest pinned) {
        ObjectNode root = JSON.createObjectNode();
        root.put("rank", rank);
        return withRequest(root, pinned);
    }

    /** The ticket of dynamic worker {@code worker}. */
    static byte[] workerTicket(String worker, StreamRequest pinned) {
        ObjectNode root = JSON.createObjectNode();
        root.put("worker", worker);
        return withRequest(root, pinned);
    }

    private static byte[] withRequest(ObjectNode root, StreamRequest pinned) {
        try {
            root.set("request", JSON.readTree(pinned.toJson()));
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static RuntimeException status(RuntimeException e) {
        if (e instanceof GranaryException granary) {
            String message = granary.getMessage() + (granary.hint().isEmpty() ? "" : " (" + granary.hint() + ")");
            CallStatus status = switch (granary.kind()) {
                case NOT_FOUND -> CallStatus.NOT_FOUND;
                case UNAVAILABLE -> CallStatus.UNAVAILABLE;
                case CONFLICT -> CallStatus.UNAVAILABLE;
                case ALREADY_EXISTS, INVALID_INPUT -> CallStatus.INVALID_ARGUMENT;
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
