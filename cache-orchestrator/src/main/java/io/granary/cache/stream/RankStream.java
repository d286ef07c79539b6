package io.granary.cache.stream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.types.Types;

/**
 * One rank's rows of a table snapshot, in its plan's order, as record batches of up to
 * {@code batchRows} rows: each row group is decoded once into Arrow (a few are kept, as a shuffle
 * buffer's window spans several), and a batch is a slice of it or rows gathered from several.
 */
final class RankStream implements AutoCloseable {

    private static final int ROW_GROUPS_KEPT = 4;
    private static final int MIN_SHARED_RUN = 256;

    private final Function<String, Path> files;
    private final List<Types.NestedField> fields;
    private final Schema schema;
    private final Iterator<EpochPlan.Slice> slices;
    private final int batchRows;
    private final BufferAllocator allocator;
    private final Map<StreamUnit, VectorSchemaRoot> decoded = new LinkedHashMap<>(16, 0.75f, true);
    private EpochPlan.Slice current;
    private long doneInCurrent;

    /**
     * @param files where each snapshot file (by its name in the snapshot) is on the local disk
     * @param fields the columns to send, top-level fields of the table's schema
     */
    RankStream(Function<String, Path> files, List<Types.NestedField> fields, List<EpochPlan.Slice> slices, int batchRows,
               BufferAllocator allocator) {
        this.files = files;
        this.fields = List.copyOf(fields);
        this.schema = new Schema(fields.stream().map(RowGroupBatches::arrowField).toList());
        this.slices = slices.iterator();
        this.batchRows = batchRows;
        this.allocator = allocator;
    }

    Schema schema() {
        return schema;
    }

    /**
     * Fills {@code out} (of {@link #schema}) with the next batch; false when the rank's rows are all
     * sent. A run of at least {@link #MIN_SHARED_RUN} rows of one row group (the usual case without
     * a row shuffle) is handed over as slices of the decoded vectors, no value copied; shorter runs
     * (a shuffle buffer's single rows) are gathered into the batch.
     */
    boolean next(VectorSchemaRoot out) {
        out.clear();
        if (!advance()) {
            out.setRowCount(0);
            return false;
        }
        long left = current.rows() - doneInCurrent;
        if (left >= Math.min(batchRows, MIN_SHARED_RUN)) {
            int take = (int) Math.min(batchRows, left);
            int from = Math.toIntExact(current.offset() + doneInCurrent);
            VectorSchemaRoot rowGroup = rowGroup(current.unit());
            for (int c = 0; c < fields.size(); c++) {
                rowGroup.getVector(c).makeTransferPair(out.getVector(c)).splitAndTransfer(from, take);
            }
            out.setRowCount(take);
            doneInCurrent += take;
            return true;
        }
        for (FieldVector vector : out.getFieldVectors()) {
            vector.setInitialCapacity(batchRows);
            vector.allocateNew();
        }
        int filled = 0;
        while (filled < batchRows && advance()) {
            VectorSchemaRoot rowGroup = rowGroup(current.unit());
            int take = (int) Math.min(batchRows - filled, current.rows() - doneInCurrent);
            int from = Math.toIntExact(current.offset() + doneInCurrent);
            for (int c = 0; c < fields.size(); c++) {
                FieldVector source = rowGroup.getVector(c);
                FieldVector target = out.getVector(c);
                for (int i = 0; i < take; i++) {
                    target.copyFromSafe(from + i, filled + i, source);
                }
            }
            filled += take;
            doneInCurrent += take;
        }
        for (FieldVector vector : out.getFieldVectors()) {
            vector.setValueCount(filled);
        }
        out.setRowCount(filled);
        return true;
    }

    /** Moves to a slice with rows left; false when there is none. */
    private boolean advance() {
        while (current == null || doneInCurrent == current.rows()) {
            if (!slices.hasNext()) {
                return false;
            }
            current = slices.next();
            doneInCurrent = 0;
        }
        return true;
    }

    private VectorSchemaRoot rowGroup(StreamUnit unit) {
        VectorSchemaRoot kept = decoded.get(unit);
        if (kept != null) {
            return kept;
        }
        Path file = files.apply(unit.file());
        try (RowGroupBatches batches = RowGroupBatches.open(file, fields).orElseThrow(() -> new io.granary.common.GranaryException(
                unit.file() + " uses an encoding or a column type streams do not read yet", "write it with Iceberg's defaults (Parquet v1 pages)"))) {
            for (int i = 0; i < unit.part(); i++) {
                batches.skip();
            }
            VectorSchemaRoot read = batches.next(allocator);
            decoded.put(unit, read);
            if (decoded.size() > ROW_GROUPS_KEPT) {
                Iterator<VectorSchemaRoot> oldest = decoded.values().iterator();
                oldest.next().close();
                oldest.remove();
            }
            return read;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + unit.file() + " (" + file + ")", e);
        }
    }

    @Override
    public void close() {
        decoded.values().forEach(VectorSchemaRoot::close);
        decoded.clear();
    }
}
