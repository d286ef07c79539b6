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
 *
 * <p>A dynamic worker reads best over one DoExchange whose command descriptor is its ticket's
 * bytes: the server sends unit after unit, each followed by a metadata message the worker sends
 * back when it is done with that unit (see {@link StreamService#exchange}). DoGet of a dynamic
 * ticket is one unit per call, for clients without DoExchange.
 */
final class DataFlightProducer extends NoOpFlightProducer {

    private static final Logger LOG = LoggerFactory.getLogger(DataFlightProducer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final StreamService service;
    /** Reads each exchange's acknowledgements while its thread sends. */
    private final java.util.concurrent.ExecutorService acknowledgementReaders = java.util.concurrent.Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "granary-stream-acks");
        thread.setDaemon(true);
        return thread;
    });

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
            StreamRequest pinned = pinnedRequest(root);
            int rank = 0;
            String worker = "";
            if (pinned.mode() == StreamRequest.Mode.DYNAMIC) {
                worker = worker(root);
            } else {
                JsonNode number = root.get("rank");
                if (number == null || !number.canConvertToInt()) {
                    throw new GranaryException("a static stream's ticket names its rank: {\"rank\": R, \"request\": {...}}",
                            "take tickets from GetFlightInfo's endpoints");
                }
                rank = number.asInt();
            }
            StreamService.Outcome outcome = service.serve(pinned, rank, worker, new ListenerSink(listener, () -> { }), "flight");
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

    /**
     * A dynamic worker reading its units over one exchange: the descriptor's command is its ticket
     * (GetFlightInfo's endpoint, or {@code {"worker": "ID", "request": {...}}}); each metadata
     * message it sends is the end message of a unit it is done with, sent back.
     */
    @Override
    public void doExchange(CallContext context, org.apache.arrow.flight.FlightStream reader, ServerStreamListener listener) {
        ExchangeAcknowledgements acks = null;
        try {
            org.apache.arrow.flight.FlightDescriptor descriptor = reader.getDescriptor();
            if (!descriptor.isCommand()) {
                throw new GranaryException("a dynamic worker's exchange is named by a command descriptor: its ticket's bytes",
                        "send FlightDescriptor.command(the ticket of GetFlightInfo's endpoint)");
            }
            JsonNode root = parseTicket(descriptor.getCommand());
            StreamRequest pinned = pinnedRequest(root);
            String worker = pinned.mode() == StreamRequest.Mode.DYNAMIC ? worker(root) : ""; // a static one is refused, named as such
            acks = new ExchangeAcknowledgements();
            ExchangeAcknowledgements reading = acks;
            acknowledgementReaders.execute(() -> reading.read(reader));
            // ending the call closes what the reader thread reads: it is stopped first
            StreamService.Outcome outcome = service.exchange(pinned, worker, new ListenerSink(listener, reading::stopReading), reading);
            boolean workerStopped = reading.stopped();
            reading.stopReading();
            if (outcome == StreamService.Outcome.CANCELLED && !listener.isCancelled()) {
                if (workerStopped && !service.stopping()) {
                    listener.completed(); // the worker closed its side: what it did not acknowledge went back to the epoch
                } else {
                    listener.error(CallStatus.UNAVAILABLE.withDescription("the data server is stopping; ask again once it runs").toRuntimeException());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopReading(acks);
            listener.error(CallStatus.CANCELLED.withDescription("the server is stopping").toRuntimeException());
        } catch (IOException e) {
            stopReading(acks);
            listener.error(CallStatus.INVALID_ARGUMENT.withDescription("not a ticket of this server: " + e.getMessage()).toRuntimeException());
        } catch (RuntimeException e) {
            stopReading(acks);
            listener.error(status(e));
        }
    }

    private static void stopReading(ExchangeAcknowledgements acks) {
        if (acks != null) {
            acks.stopReading();
        }
    }

    /** What a worker sends over its exchange, read on a thread of its own: the serials it acknowledges, then the end of its side. */
    private static final class ExchangeAcknowledgements implements StreamService.Acknowledgements {
        private final java.util.concurrent.BlockingQueue<Long> serials = new java.util.concurrent.LinkedBlockingQueue<>();
        private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        private volatile boolean stopped;
        private volatile RuntimeException refused;
        /** The thread reading, while it reads (so that stopping interrupts it and no later task of its pool). */
        private Thread reading;
        private boolean stopRequested;

        void read(org.apache.arrow.flight.FlightStream reader) {
            synchronized (this) {
                if (stopRequested) {
                    stopped = true;
                    ended.countDown();
                    return;
                }
                reading = Thread.currentThread();
            }
            try {
                while (!Thread.currentThread().isInterrupted() && reader.next()) {
                    org.apache.arrow.memory.ArrowBuf metadata = reader.getLatestMetadata();
                    if (metadata == null) {
                        continue; // rows sent to a read-only stream: nothing to acknowledge
                    }
                    byte[] bytes = new byte[(int) metadata.readableBytes()];
                    metadata.getBytes(0, bytes);
                    serials.add(serial(bytes));
                }
            } catch (GranaryException e) {
                refused = e;
            } catch (RuntimeException e) {
                // the call broke (the worker went away), the exchange ended, or it was stopped: either way it reads no more
            } finally {
                synchronized (this) {
                    reading = null;
                    Thread.interrupted(); // the pool's thread goes back clean
                }
                stopped = true;
                ended.countDown();
            }
        }

        /**
         * Stops the reading thread (interrupted out of its wait) and waits until it has let go of what
         * it reads: ending the call closes that. Idempotent.
         */
        void stopReading() {
            synchronized (this) {
                stopRequested = true;
                if (reading != null) {
                    reading.interrupt();
                }
            }
            try {
                if (!ended.await(5, java.util.concurrent.TimeUnit.SECONDS)) {
                    LOG.warn("an exchange's acknowledgement reader did not stop within 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static long serial(byte[] bytes) {
            try {
                JsonNode ack = JSON.readTree(bytes).get("ack");
                if (ack != null && ack.canConvertToLong()) {
                    return ack.asLong();
                }
            } catch (IOException | RuntimeException e) {
                // named below
            }
            String sent = new String(bytes, 0, Math.min(bytes.length, 200), java.nio.charset.StandardCharsets.UTF_8);
            throw new GranaryException("a dynamic worker's metadata message is not a unit's end message sent back: "
                    + sent + (bytes.length > 200 ? "... (" + bytes.length + " bytes)" : ""),
                    "send back the metadata of each unit's end message ({\"ack\": ...}), unchanged");
        }

        @Override
        public java.util.OptionalLong poll(long millis) throws InterruptedException {
            Long serial = millis <= 0 ? serials.poll() : serials.poll(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (serial == null && refused != null) {
                throw refused;
            }
            return serial == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(serial);
        }

        @Override
        public boolean stopped() {
            return stopped && serials.isEmpty() && refused == null;
        }
    }

    /** A Flight listener as the sink of a stream's batches. */
    private final class ListenerSink implements StreamService.ExchangeSink {
        private final ServerStreamListener listener;
        private final Runnable beforeEnd;
        private final java.util.concurrent.Semaphore ready = new java.util.concurrent.Semaphore(0);

        /** @param beforeEnd runs before the call is completed */
        ListenerSink(ServerStreamListener listener, Runnable beforeEnd) {
            this.listener = listener;
            this.beforeEnd = beforeEnd;
            listener.setOnReadyHandler(ready::release);
            listener.setOnCancelHandler(ready::release);
        }

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
        public void sendMetadata(byte[] metadata) {
            org.apache.arrow.memory.ArrowBuf buffer = service.allocator().buffer(metadata.length);
            buffer.setBytes(0, metadata);
            buffer.writerIndex(metadata.length); // what is sent is the readable part
            listener.putMetadata(buffer);
        }

        @Override
        public void completed() {
            beforeEnd.run();
            listener.completed();
        }
    }

    private static String worker(JsonNode root) {
        JsonNode id = root.get("worker");
        if (id == null || !id.isTextual() || id.asText().isBlank()) {
            throw new GranaryException("a dynamic stream's ticket names its worker: {\"worker\": \"ID\", \"request\": {...}}",
                    "take tickets from GetFlightInfo's endpoints, or give each worker its own id");
        }
        return id.asText();
    }

    /** The stream request a ticket carries, pinned to its snapshot. */
    private StreamRequest pinnedRequest(JsonNode ticket) throws IOException {
        return service.pin(StreamRequest.fromJson(JSON.writeValueAsBytes(ticket.get("request"))));
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
