package io.granary.cache.stream;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * One rank's rows of a snapshot, in its plan's order, as record batches of up to
 * {@code batchRows} rows: each unit is decoded once (a few are kept, as a shuffle buffer's window
 * spans several), and a batch is a slice of one or rows gathered from several.
 */
final class RankStream implements AutoCloseable {

    private static final int UNITS_KEPT = 4;
    private static final int MIN_SHARED_RUN = 256;
    /** A batch stops growing at about this many bytes (big members), so that no message is huge and the first one comes soon. */
    static final long MAX_BATCH_BYTES = 8L << 20;

    private final UnitReader.Decoder decoder;
    private final boolean closesDecoder;
    private final Schema schema;
    private final List<EpochPlan.Slice> slices;
    private int nextSlice;
    private final java.util.concurrent.Executor prefetcher;
    /** Its own reader of the files: a decoder is not shared between threads. */
    private final UnitReader.Decoder prefetchDecoder;
    /** The unit decoded ahead, in the background, while the current one is sent. */
    private StreamUnit prefetching;
    private java.util.concurrent.CompletableFuture<DecodedUnit> prefetched;
    /** Whether the current unit is being decoded ahead already. */
    private boolean decodingAhead;
    private final int batchRows;
    private final Map<StreamUnit, DecodedUnit> decoded = new LinkedHashMap<>(16, 0.75f, true);
    private EpochPlan.Slice current;
    private long doneInCurrent;

    RankStream(UnitReader units, List<EpochPlan.Slice> slices, int batchRows, org.apache.arrow.memory.BufferAllocator allocator) {
        this(units.schema(), units.decoder(allocator), true, slices, batchRows, null, null);
    }

    /**
     * As above, the next unit decoded ahead on {@code prefetcher} while the current one is sent, and
     * units' buffers kept by the reader for later streams: {@code allocator} is a server's, which outlives them.
     */
    RankStream(UnitReader units, List<EpochPlan.Slice> slices, int batchRows, org.apache.arrow.memory.BufferAllocator allocator,
               java.util.concurrent.Executor prefetcher) {
        this(units.schema(), units.decoder(allocator, true), true, slices, batchRows, prefetcher, units.decoder(allocator, true));
    }

    /** Rows read with a decoder the caller keeps (and closes) across several streams, as a dynamic worker's units are. */
    RankStream(Schema schema, UnitReader.Decoder decoder, boolean closesDecoder, List<EpochPlan.Slice> slices, int batchRows,
               java.util.concurrent.Executor prefetcher, UnitReader.Decoder prefetchDecoder) {
        this.decoder = decoder;
        this.closesDecoder = closesDecoder;
        this.schema = schema;
        this.slices = List.copyOf(slices);
        this.batchRows = batchRows;
        this.prefetcher = prefetcher;
        this.prefetchDecoder = prefetchDecoder;
    }

    Schema schema() {
        return schema;
    }

    /**
     * Fills {@code out} (of {@link #schema}) with the next batch; false when the rank's rows are all
     * sent. A run of at least {@link #MIN_SHARED_RUN} rows of one unit (the usual case without a row
     * shuffle) is handed over as a slice of the decoded unit; shorter runs (a shuffle buffer's
     * single rows) are gathered into the batch. A batch of big rows (a packed set's members) ends
     * at about {@link #MAX_BATCH_BYTES}.
     */
    boolean next(VectorSchemaRoot out) {
        out.clear();
        if (!advance()) {
            out.setRowCount(0);
            return false;
        }
        long left = current.rows() - doneInCurrent;
        DecodedUnit unit = unit(current.unit());
        int from = Math.toIntExact(current.offset() + doneInCurrent);
        int fitting = unit.rowsWithin(from, (int) Math.min(batchRows, left), MAX_BATCH_BYTES);
        if (left >= Math.min(batchRows, MIN_SHARED_RUN) || fitting < Math.min(batchRows, left)) {
            int take = fitting;
            unit.slice(from, take, out);
            doneInCurrent += take;
            decodeAhead();
            return true;
        }
        for (FieldVector vector : out.getFieldVectors()) {
            vector.setInitialCapacity(batchRows);
            vector.allocateNew();
        }
        int filled = 0;
        long bytes = 0;
        while (filled < batchRows && bytes < MAX_BATCH_BYTES && advance()) {
            DecodedUnit source = unit(current.unit());
            int at = Math.toIntExact(current.offset() + doneInCurrent);
            int take = source.rowsWithin(at, (int) Math.min(batchRows - filled, current.rows() - doneInCurrent), MAX_BATCH_BYTES - bytes);
            if (filled > 0 && bytes + source.bytes(at, take) > MAX_BATCH_BYTES) {
                break; // even one more row would go past the size: it starts the next batch
            }
            source.copy(at, take, out, filled);
            bytes += source.bytes(at, take);
            filled += take;
            doneInCurrent += take;
        }
        for (FieldVector vector : out.getFieldVectors()) {
            vector.setValueCount(filled);
        }
        out.setRowCount(filled);
        decodeAhead();
        return true;
    }

    /** Moves to a slice with rows left; false when there is none. */
    private boolean advance() {
        while (current == null || doneInCurrent == current.rows()) {
            if (nextSlice == slices.size()) {
                return false;
            }
            current = slices.get(nextSlice++);
            doneInCurrent = 0;
        }
        return true;
    }

    private DecodedUnit unit(StreamUnit unit) {
        DecodedUnit kept = decoded.get(unit);
        if (kept == null) {
            kept = unit.equals(prefetching) ? takePrefetched() : null;
            if (kept == null) {
                kept = decoder.decode(unit);
                decodingAhead = false;
            }
            decoded.put(unit, kept);
            if (decoded.size() > UNITS_KEPT) {
                Iterator<DecodedUnit> oldest = decoded.values().iterator();
                oldest.next().close();
                oldest.remove();
            }
        }
        return kept;
    }

    /**
     * Once the current unit's first batch is out: the rest of the unit decoded on another thread
     * while its batches are sent, and the next unit after it (the first batch has the cores to itself).
     */
    private void decodeAhead() {
        if (prefetcher == null || current == null) {
            return;
        }
        DecodedUnit unit = decoded.get(current.unit());
        if (unit != null && !decodingAhead) {
            decodingAhead = true;
            prefetcher.execute(() -> {
                try {
                    unit.prefetch();
                } catch (RuntimeException e) {
                    // closed meanwhile, or a failure the sending thread meets again itself
                }
            });
        }
        prefetchAfter(current.unit());
    }

    /** The unit decoded ahead, or null when that failed (it is then decoded here, and fails here if it must). */
    private DecodedUnit takePrefetched() {
        java.util.concurrent.CompletableFuture<DecodedUnit> future = prefetched;
        prefetched = null;
        prefetching = null;
        try {
            return future.join();
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
            return null;
        }
    }

    /** Starts decoding the first unit after {@code unit} in this stream's order that is not decoded yet. */
    private void prefetchAfter(StreamUnit unit) {
        if (prefetcher == null || prefetched != null) {
            return;
        }
        for (int i = nextSlice; i < slices.size(); i++) {
            StreamUnit next = slices.get(i).unit();
            if (!next.equals(unit) && !decoded.containsKey(next)) {
                prefetching = next;
                prefetched = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    DecodedUnit read = prefetchDecoder.decode(next);
                    try {
                        read.prefetch();
                        return read;
                    } catch (RuntimeException e) {
                        read.close();
                        throw e;
                    }
                }, prefetcher);
                return;
            }
        }
    }

    @Override
    public void close() {
        decoded.values().forEach(DecodedUnit::close);
        decoded.clear();
        if (prefetched != null) {
            DecodedUnit late = takePrefetched();
            if (late != null) {
                late.close();
            }
        }
        if (closesDecoder) {
            decoder.close();
        }
        if (prefetchDecoder != null) {
            prefetchDecoder.close();
        }
    }
}
