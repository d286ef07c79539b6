package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.types.Types;

/** A table's units, Parquet row groups of its cached data files, decoded into Arrow by the direct reader. */
final class TableUnits implements UnitReader {

    private final Function<String, Path> files;
    private final List<Types.NestedField> fields;
    private final Schema schema;
    private final Map<StreamUnit, int[]> selections;
    /**
     * Vectors of row groups sent and released, for the next row groups to decode into, whatever the
     * stream (every epoch's streams read the same row groups): fresh ones cost their size in page faults.
     */
    private final java.util.ArrayDeque<VectorSchemaRoot> retired = new java.util.ArrayDeque<>();
    private static final int RETIRED_KEPT = 2;

    /**
     * @param files where each data file (by its name in the snapshot) is on the local disk
     * @param fields the columns to send, top-level fields of the table's schema
     * @param selections for units a filter keeps part of, the rows of the row group they keep
     */
    TableUnits(Function<String, Path> files, List<Types.NestedField> fields, Map<StreamUnit, int[]> selections) {
        this.files = files;
        this.selections = Map.copyOf(selections);
        this.fields = List.copyOf(fields);
        this.schema = new Schema(fields.stream().map(RowGroupBatches::arrowField).toList());
    }

    @Override
    public Schema schema() {
        return schema;
    }

    @Override
    public Decoder decoder(BufferAllocator allocator, boolean keepBuffers) {
        return new Decoder() {
            /** The file read last and the row group it reads next: consecutive row groups of a file share one open reader (one footer read). */
            private String openFile;
            private RowGroupBatches open;
            private int nextPart;
            /** The row group read last from {@link #open}: decoded whole before the reader moves on, which frees its pages. */
            private Rows last;

            @Override
            public synchronized DecodedUnit decode(StreamUnit unit) {
                if (last != null) {
                    last.prefetch();
                    last = null;
                }
                try {
                    if (open == null || !unit.file().equals(openFile) || unit.part() < nextPart) {
                        closeReader();
                        Path file = files.apply(unit.file());
                        open = RowGroupBatches.open(file, fields).orElseThrow(() -> new GranaryException(
                                unit.file() + " uses an encoding or a column type streams do not read yet",
                                "write it with Iceberg's defaults (Parquet v1 or v2 pages, PLAIN and dictionary encodings)"));
                        openFile = unit.file();
                        nextPart = 0;
                    }
                    for (; nextPart < unit.part(); nextPart++) {
                        open.skip();
                    }
                    nextPart++;
                    Rows rows = new Rows(keepBuffers ? open.start(allocator, recycled(allocator), root -> retire(root, allocator)) : open.start(allocator));
                    last = rows;
                    int[] selection = selections.get(unit);
                    return selection == null ? rows : new Selected(rows, selection);
                } catch (IOException e) {
                    closeReader();
                    throw new UncheckedIOException("cannot read " + unit.file() + " (" + files.apply(unit.file()) + ")", e);
                }
            }

            @Override
            public synchronized void close() {
                closeReader();
            }

            private void closeReader() {
                if (open != null) {
                    try {
                        open.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } finally {
                        open = null;
                    }
                }
            }
        };
    }

    /**
     * Vectors of an earlier row group to decode into, if one is kept for this allocator and no slice
     * of it is still on its way to a consumer (the transport lets go of a stream's last batches
     * only after the stream has ended, so that is checked now, not when it was kept).
     */
    private VectorSchemaRoot recycled(BufferAllocator allocator) {
        synchronized (retired) {
            for (java.util.Iterator<VectorSchemaRoot> it = retired.iterator(); it.hasNext(); ) {
                VectorSchemaRoot root = it.next();
                if (root.getFieldVectors().get(0).getAllocator().getRoot() == allocator.getRoot() && unshared(root)) {
                    it.remove();
                    return root;
                }
            }
            return null;
        }
    }

    /**
     * Keeps a closed row group's vectors for a later one (the next stream's first row group among
     * them: fresh vectors for a big row group cost their size in page faults before its first batch),
     * the latest few, while streams use under half their memory.
     */
    private void retire(VectorSchemaRoot root, BufferAllocator allocator) {
        VectorSchemaRoot dropped = root;
        synchronized (retired) {
            BufferAllocator top = allocator.getRoot();
            if (top.getAllocatedMemory() < top.getLimit() / 2) {
                retired.addLast(root);
                dropped = retired.size() > RETIRED_KEPT ? retired.removeFirst() : null;
            }
        }
        if (dropped != null) {
            dropped.close();
        }
    }

    /** Lets go of the vectors kept for reuse (the plan is dropped, or the server stops). */
    @Override
    public void release() {
        synchronized (retired) {
            retired.forEach(VectorSchemaRoot::close);
            retired.clear();
        }
    }

    /**
     * Whether only the root itself holds its buffers (no slice of them is still on its way to a
     * consumer). A fixed-width vector's validity and values share one allocation, each holding a
     * reference to it, so a buffer's reference count is compared with how many of the root's own
     * buffers share its allocation, not with 1.
     */
    static boolean unshared(VectorSchemaRoot root) {
        Map<org.apache.arrow.memory.ReferenceManager, Integer> own = new java.util.IdentityHashMap<>();
        for (FieldVector vector : root.getFieldVectors()) {
            for (org.apache.arrow.memory.ArrowBuf buffer : vector.getFieldBuffers()) {
                if (buffer.capacity() > 0) {
                    own.merge(buffer.getReferenceManager(), 1, Integer::sum);
                }
            }
        }
        for (Map.Entry<org.apache.arrow.memory.ReferenceManager, Integer> allocation : own.entrySet()) {
            if (allocation.getKey().getRefCount() > allocation.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** The rows of a decoded row group a filter keeps: copied out by their index in the row group. */
    static final class Selected implements DecodedUnit {
        private final Rows rows;
        private final int[] selection;

        Selected(Rows rows, int[] selection) {
            this.rows = rows;
            this.selection = selection;
        }

        @Override
        public void prefetch() {
            rows.prefetch();
        }

        @Override
        public void slice(int from, int count, VectorSchemaRoot out) {
            for (FieldVector vector : out.getFieldVectors()) {
                vector.setInitialCapacity(count);
                vector.allocateNew();
            }
            copy(from, count, out, 0);
            for (FieldVector vector : out.getFieldVectors()) {
                vector.setValueCount(count);
            }
            out.setRowCount(count);
        }

        @Override
        public void copy(int from, int count, VectorSchemaRoot out, int at) {
            if (count == 0) {
                return;
            }
            VectorSchemaRoot root = rows.upTo(selection[from + count - 1] + 1);
            for (int c = 0; c < root.getFieldVectors().size(); c++) {
                FieldVector source = root.getVector(c);
                FieldVector target = out.getVector(c);
                for (int i = 0; i < count; i++) {
                    target.copyFromSafe(selection[from + i], at + i, source);
                }
            }
        }

        @Override
        public void close() {
            rows.close();
        }
    }

    /** A row group, decoded as batches need it: batches are slices of its vectors (no value copied) or rows copied out of them. */
    static final class Rows implements DecodedUnit {
        /** Rows decoded ahead at a time: about a page of each column. */
        private static final int DECODE_STEP = 32_768;

        private final RowGroupBatches.Progressive group;

        Rows(RowGroupBatches.Progressive group) {
            this.group = group;
        }

        /** The decoded vectors, holding at least rows [0, rows). */
        VectorSchemaRoot upTo(int rows) {
            try {
                group.ensure(rows);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot decode a row group", e);
            }
            return group.root();
        }

        @Override
        public void prefetch() {
            try {
                group.decodeAhead(DECODE_STEP);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot decode a row group", e);
            }
        }

        // slices and copies hold the row group: a thread decoding ahead may grow its string buffers meanwhile

        @Override
        public void slice(int from, int count, VectorSchemaRoot out) {
            synchronized (group) {
                VectorSchemaRoot root = upTo(from + count);
                for (int c = 0; c < root.getFieldVectors().size(); c++) {
                    root.getVector(c).makeTransferPair(out.getVector(c)).splitAndTransfer(from, count);
                }
                out.setRowCount(count);
            }
        }

        @Override
        public void copy(int from, int count, VectorSchemaRoot out, int at) {
            synchronized (group) {
                VectorSchemaRoot root = upTo(from + count);
                for (int c = 0; c < root.getFieldVectors().size(); c++) {
                    FieldVector source = root.getVector(c);
                    FieldVector target = out.getVector(c);
                    for (int i = 0; i < count; i++) {
                        target.copyFromSafe(from + i, at + i, source);
                    }
                }
            }
        }

        @Override
        public void close() {
            group.close();
        }
    }
}
