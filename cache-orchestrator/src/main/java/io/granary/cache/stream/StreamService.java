package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * What both transports of `granary serve data` (Arrow Flight and HTTP) do: pin and plan streams
 * (the snapshot's part of a plan is kept by {@link SnapshotStreams}), send a static rank's rows or a dynamic worker's leased units
 * to a {@link BatchSink}, within the server's memory bound, counting what it sends.
 */
final class StreamService implements AutoCloseable {

    private static final int KEPT = 64;

    /** Where a stream's batches go: a Flight listener or an HTTP response. */
    interface BatchSink {
        /** Called once, before the first batch, with the batch every {@link #send} sends the rows of. */
        void start(VectorSchemaRoot batch);

        /** Waits until the consumer takes more; false when it went away. */
        boolean awaitReady() throws InterruptedException;

        void send();

        void completed();
    }

    /** A dynamic worker's exchange: batches out, and a metadata message after each unit's last batch. */
    interface ExchangeSink extends BatchSink {
        /** Sends a message of application metadata alone (no rows). */
        void sendMetadata(byte[] metadata);
    }

    /** What a dynamic worker says over its exchange: the units it is done with, or that it stopped. */
    interface Acknowledgements {
        /** The serial of the next unit the worker is done with, waiting up to {@code millis}; empty when none came or it stopped. */
        java.util.OptionalLong poll(long millis) throws InterruptedException;

        /** Whether the worker closed its side (or its call broke): it reads no more. */
        boolean stopped();
    }

    /** How a stream ended, for the metrics. */
    enum Outcome { COMPLETED, CANCELLED }

    private final SnapshotStreams streams;
    private final StreamSettings settings;
    private final BufferAllocator allocator;
    private final StreamMetrics metrics;
    /** Decodes the next unit of each stream while its current one is sent. */
    private final java.util.concurrent.ExecutorService prefetcher = java.util.concurrent.Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(), runnable -> {
                Thread thread = new Thread(runnable, "granary-stream-prefetch");
                thread.setDaemon(true);
                return thread;
            });
    /** The leases of each dynamic epoch, by pinned request: a worker of the epoch reaches the same book through any transport. */
    private final Map<String, LeaseBook> books = lru();
    /** Set when the server stops: streams under way end (their consumers are told) rather than wait on their consumers. */
    private volatile boolean stopping;

    /** Streams being sent now (one counter, its monitor waited on by {@link #awaitIdle}). */
    private final int[] active = new int[1];

    StreamService(SnapshotStreams streams, StreamSettings settings, BufferAllocator allocator) {
        this.streams = streams;
        this.settings = settings;
        this.allocator = allocator;
        this.metrics = new StreamMetrics(allocator::getAllocatedMemory, allocator.getLimit());
    }

    private static <V> Map<String, V> lru() {
        return Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > KEPT;
            }
        });
    }

    StreamMetrics metrics() {
        return metrics;
    }

    BufferAllocator allocator() {
        return allocator;
    }

    StreamRequest pin(StreamRequest request) {
        return streams.pin(request);
    }

    /** The plan of a pinned request: its snapshot's units are planned once, the epoch's order of them on every call (it is cheap). */
    SnapshotStreams.Planned plan(StreamRequest pinned) {
        return streams.plan(pinned);
    }

    /** Plans the stream and refuses a rank or start_row it does not have, before anything is sent. */
    void check(StreamRequest pinned, int rank) {
        streams.check(plan(pinned), rank);
    }

    private static String key(StreamRequest pinned) {
        return new String(pinned.toJson(), StandardCharsets.UTF_8);
    }

    /**
     * Sends a stream of a pinned request to {@code sink}: in static mode rank {@code rank}'s rows,
     * in dynamic mode the units {@code worker} leases until the epoch is done.
     */
    Outcome serve(StreamRequest pinned, int rank, String worker, BatchSink sink, String transport) throws InterruptedException {
        return tracked(pinned, transport, planned -> pinned.mode() == StreamRequest.Mode.DYNAMIC
                ? dynamic(planned, worker, sink)
                : staticRank(planned, rank, sink));
    }

    private interface StreamBody {
        Outcome send(SnapshotStreams.Planned planned) throws InterruptedException;
    }

    /** Plans the stream and sends it, counted as open (and waited on by {@link #awaitIdle}) while it runs. */
    private Outcome tracked(StreamRequest pinned, String transport, StreamBody body) throws InterruptedException {
        if (stopping) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "the data server is stopping", "ask again once it runs", null);
        }
        SnapshotStreams.Planned planned = plan(pinned);
        metrics.opened();
        String outcome = "error";
        synchronized (active) {
            active[0]++;
        }
        try {
            Outcome result = body.send(planned);
            outcome = result.name().toLowerCase(java.util.Locale.ROOT);
            return result;
        } catch (OutOfMemoryException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "the data server's memory for streams (stream.memory, "
                    + io.granary.common.Sizes.format(allocator.getLimit()) + ") is taken by the streams under way",
                    "retry later, lower batch_rows, or raise stream.memory in granary.yaml", e);
        } finally {
            metrics.closed(transport, outcome);
            synchronized (active) {
                active[0]--;
                active.notifyAll();
            }
        }
    }

    /** Ends the streams under way at their next batch, and refuses new ones. */
    void stop() {
        stopping = true;
    }

    boolean stopping() {
        return stopping;
    }

    /** Waits until no stream is being sent (or the time is up). */
    void awaitIdle(java.time.Duration patience) throws InterruptedException {
        long until = System.nanoTime() + patience.toNanos();
        synchronized (active) {
            while (active[0] > 0 && System.nanoTime() < until) {
                active.wait(Math.max(1, (until - System.nanoTime()) / 1_000_000));
            }
        }
    }

    private Outcome staticRank(SnapshotStreams.Planned planned, int rank, BatchSink sink) throws InterruptedException {
        String dataset = planned.request().dataset().toString();
        long left = planned.rank(rank).rows() - planned.request().startRow();
        try (RankStream stream = streams.open(planned, rank, allocator, prefetcher);
             VectorSchemaRoot batch = VectorSchemaRoot.create(stream.schema(), allocator)) {
            sink.start(batch);
            while (stream.next(batch)) {
                if (!await(sink)) {
                    return Outcome.CANCELLED;
                }
                sink.send();
                left -= batch.getRowCount();
                metrics.sent("static", batch.getRowCount(), bytes(batch));
                metrics.rowsLeft(dataset, rank, left);
            }
            sink.completed();
            return Outcome.COMPLETED;
        } finally {
            metrics.streamEnded(dataset, rank);
        }
    }

    /**
     * One unit leased to {@code worker}, sent whole: each DoGet (or GET) of a dynamic ticket is the
     * worker asking for its next unit, so it never holds more than the one it reads, however much
     * the transport buffers. An empty stream means the epoch is done. While every unit left is
     * leased to others the call waits (one may come back).
     */
    private Outcome dynamic(SnapshotStreams.Planned planned, String worker, BatchSink sink) throws InterruptedException {
        LeaseBook book = book(planned);
        UnitReader units = planned.units();
        Optional<LeaseBook.Lease> next = Optional.empty();
        while (next.isEmpty() && !book.finished()) {
            next = book.next(worker, 200);
            if (next.isEmpty() && (stopping || !sink.awaitReady())) {
                return Outcome.CANCELLED;
            }
        }
        try (VectorSchemaRoot batch = VectorSchemaRoot.create(units.schema(), allocator)) {
            sink.start(batch);
            if (next.isEmpty()) {
                sink.completed();
                return Outcome.COMPLETED;
            }
            LeaseBook.Lease lease = next.get();
            metrics.leased();
            boolean sent = false;
            try (RankStream stream = unitStream(planned, lease)) {
                while (stream.next(batch)) {
                    if (!await(sink)) {
                        return Outcome.CANCELLED;
                    }
                    if (!book.renew(lease)) {
                        throw leaseLost(lease);
                    }
                    sink.send();
                    metrics.sent("dynamic", batch.getRowCount(), bytes(batch));
                }
                sent = true;
            } finally {
                if (!sent) {
                    book.release(lease);
                }
            }
            if (!book.delivered(lease)) {
                throw leaseLost(lease);
            }
            sink.completed();
            return Outcome.COMPLETED;
        }
    }

    /**
     * A dynamic worker reading the epoch over one exchange: each unit's batches, then a metadata
     * message {@code {"ack": SERIAL, "unit": INDEX, "rows": ROWS}} that the worker sends back once it
     * is done with the unit. While it reads one unit the next is leased and sent (the transport's
     * window holds its first batches), so the worker never waits for a new call; a unit counts as
     * delivered only when acknowledged, so one the worker leased ahead but never finished goes back
     * to the epoch when it stops. Ends (empty) when the epoch is done.
     */
    Outcome exchange(StreamRequest pinned, String worker, ExchangeSink sink, Acknowledgements acks) throws InterruptedException {
        if (pinned.mode() != StreamRequest.Mode.DYNAMIC) {
            throw new GranaryException("DoExchange reads dynamic streams: a static rank's rows are one DoGet of its ticket",
                    "set \"mode\": \"dynamic\", or DoGet the ticket of GetFlightInfo's endpoint for the rank");
        }
        return tracked(pinned, "flight-exchange", planned -> exchangeUnits(planned, worker, sink, acks));
    }

    private Outcome exchangeUnits(SnapshotStreams.Planned planned, String worker, ExchangeSink sink, Acknowledgements acks)
            throws InterruptedException {
        try (VectorSchemaRoot batch = VectorSchemaRoot.create(planned.units().schema(), allocator)) {
            sink.start(batch);
            return new WorkerExchange(planned, worker, sink, acks, batch).run();
        }
    }

    /** One dynamic worker's exchange: the units sent to it and not acknowledged yet (at most two: the one it reads and the next). */
    private final class WorkerExchange {
        private final SnapshotStreams.Planned planned;
        private final String worker;
        private final ExchangeSink sink;
        private final Acknowledgements acks;
        private final VectorSchemaRoot batch;
        private final LeaseBook book;
        private final Map<Long, LeaseBook.Lease> unacknowledged = new LinkedHashMap<>();

        WorkerExchange(SnapshotStreams.Planned planned, String worker, ExchangeSink sink, Acknowledgements acks, VectorSchemaRoot batch) {
            this.planned = planned;
            this.worker = worker;
            this.sink = sink;
            this.acks = acks;
            this.batch = batch;
            this.book = book(planned);
        }

        Outcome run() throws InterruptedException {
            try {
                while (true) {
                    if (!takeAcknowledgements(0)) {
                        return Outcome.CANCELLED;
                    }
                    Optional<LeaseBook.Lease> next = Optional.empty();
                    if (unacknowledged.isEmpty()) {
                        if (book.finished()) {
                            sink.completed();
                            return Outcome.COMPLETED;
                        }
                        next = book.next(worker, 200);
                    } else if (unacknowledged.size() == 1) {
                        next = book.ahead(worker);
                    }
                    if (next.isEmpty()) {
                        // wait for the worker to finish what it holds (or, holding nothing, for a unit to come back)
                        boolean going = (unacknowledged.isEmpty() || takeAcknowledgements(200)) && !stopping && sink.awaitReady();
                        if (!going) {
                            return Outcome.CANCELLED;
                        }
                        for (LeaseBook.Lease waiting : unacknowledged.values()) {
                            if (!book.holds(waiting)) {
                                throw notAcknowledged(waiting);
                            }
                        }
                        continue;
                    }
                    LeaseBook.Lease lease = next.get();
                    unacknowledged.put(lease.serial(), lease);
                    metrics.leased();
                    if (!send(lease)) {
                        return Outcome.CANCELLED;
                    }
                }
            } finally {
                for (LeaseBook.Lease lease : unacknowledged.values()) {
                    book.release(lease);
                }
            }
        }

        /** Sends one leased unit's batches, then its end message; false when the worker went away or stopped. */
        private boolean send(LeaseBook.Lease lease) throws InterruptedException {
            try (RankStream stream = unitStream(planned, lease)) {
                while (stream.next(batch)) {
                    if (!await(sink) || !takeAcknowledgements(0)) {
                        return false;
                    }
                    for (LeaseBook.Lease held : unacknowledged.values()) {
                        if (!book.renew(held)) {
                            throw leaseLost(held);
                        }
                    }
                    sink.send();
                    metrics.sent("dynamic", batch.getRowCount(), bytes(batch));
                }
            }
            if (!await(sink)) {
                return false;
            }
            sink.sendMetadata(("{\"ack\": " + lease.serial() + ", \"unit\": " + lease.index() + ", \"rows\": " + lease.unit().rows() + "}")
                    .getBytes(StandardCharsets.UTF_8));
            return true;
        }

        /**
         * Takes what the worker acknowledged (waiting up to {@code millis} for the first): those units
         * are delivered. False when the worker stopped. An acknowledgement of a unit it does not hold is refused.
         */
        private boolean takeAcknowledgements(long millis) throws InterruptedException {
            java.util.OptionalLong serial = acks.poll(millis);
            while (serial.isPresent()) {
                LeaseBook.Lease lease = unacknowledged.remove(serial.getAsLong());
                if (lease == null) {
                    throw new GranaryException("the worker acknowledged unit serial " + serial.getAsLong()
                            + ": no unit of that serial was sent over this exchange, or it was acknowledged already",
                            "send back the metadata of each unit's end message once, unchanged");
                }
                if (!book.acknowledged(lease)) {
                    throw leaseLost(lease);
                }
                serial = acks.poll(0);
            }
            return !acks.stopped();
        }
    }

    /** The batches of one leased unit (decoded as they are sent: the lease came when the worker asked). */
    private RankStream unitStream(SnapshotStreams.Planned planned, LeaseBook.Lease lease) {
        UnitReader units = planned.units();
        return new RankStream(units.schema(), units.decoder(allocator, true), true,
                planned.epoch().unitSlices(lease.index(), planned.request().shuffleBuffer()), planned.request().batchRows(), null, null);
    }

    private LeaseBook book(SnapshotStreams.Planned planned) {
        return books.computeIfAbsent(key(planned.request()), k -> new LeaseBook(planned.epoch().units(),
                settings.leaseTimeout().toNanos(), System::nanoTime, () -> metrics.released(1)));
    }

    /** All of a unit was sent and the worker did not send its end message back within the lease timeout. */
    private GranaryException notAcknowledged(LeaseBook.Lease lease) {
        return new GranaryException(GranaryException.Kind.CONFLICT, "worker " + lease.worker() + " did not acknowledge unit " + lease.unit().file()
                + (lease.unit().part() > 0 ? " row group " + lease.unit().part() : "") + " within the lease timeout ("
                + io.granary.common.Durations.format(settings.leaseTimeout()) + "): the unit went to another worker",
                "over DoExchange, send back each unit's end message (a message without rows) once done with the unit; "
                        + "see the dynamic mode in the README", null);
    }

    private GranaryException leaseLost(LeaseBook.Lease lease) {
        return new GranaryException(GranaryException.Kind.CONFLICT, "worker " + lease.worker() + " made no progress on unit " + lease.unit().file()
                + (lease.unit().part() > 0 ? " row group " + lease.unit().part() : "") + " for the lease timeout ("
                + io.granary.common.Durations.format(settings.leaseTimeout()) + "): the unit went to another worker",
                "read faster than stream.lease_timeout allows, or raise it; ask again for the rest of the epoch", null);
    }

    /** Waits for the consumer, counting the time it kept a ready batch waiting. */
    private boolean await(BatchSink sink) throws InterruptedException {
        long start = System.nanoTime();
        boolean ready = !stopping && sink.awaitReady();
        metrics.waited(System.nanoTime() - start);
        return ready && !stopping;
    }

    private static long bytes(VectorSchemaRoot batch) {
        long total = 0;
        for (FieldVector vector : batch.getFieldVectors()) {
            total += vector.getBufferSize();
        }
        return total;
    }


    @Override
    public void close() {
        prefetcher.shutdownNow();
    }
}
