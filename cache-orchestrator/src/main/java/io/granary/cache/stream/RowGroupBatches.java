package io.granary.cache.stream;

import io.granary.dataset.parquet.ParquetColumns;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.iceberg.types.Types;

/**
 * A cached Parquet data file's row groups as Arrow record batches, decoded straight from its
 * pages by the shared direct reader ({@link ParquetColumns}) into the batch's vectors.
 */
final class RowGroupBatches implements Closeable {

    private final ParquetColumns reader;
    private final List<Types.NestedField> fields;
    private final Schema schema;

    private RowGroupBatches(ParquetColumns reader, List<Types.NestedField> fields) {
        this.reader = reader;
        this.fields = List.copyOf(fields);
        List<Field> arrow = new ArrayList<>();
        for (Types.NestedField field : fields) {
            arrow.add(arrowField(field));
        }
        this.schema = new Schema(arrow);
    }

    /**
     * The row groups of {@code file} for {@code fields} (top-level columns of the table's schema),
     * or empty when the direct reader does not take this file or one of these types (yet).
     */
    static Optional<RowGroupBatches> open(Path file, List<Types.NestedField> fields) throws IOException {
        for (Types.NestedField field : fields) {
            if (!ArrowColumn.supports(field.type().typeId())) {
                return Optional.empty();
            }
        }
        return ParquetColumns.open(org.apache.iceberg.Files.localInput(file.toFile()), fields, true, true).map(reader -> new RowGroupBatches(reader, fields));
    }

    /**
     * The distinct values of string column {@code field} in {@code files}, sorted (the member
     * extensions of a shard set's index parts, or of a table made from one).
     */
    static List<String> distinctStrings(List<Path> files, Types.NestedField field) {
        java.util.TreeSet<String> found = new java.util.TreeSet<>();
        try (org.apache.arrow.memory.RootAllocator allocator = new org.apache.arrow.memory.RootAllocator()) {
            for (Path file : files) {
                try (RowGroupBatches batches = open(file, List.of(field)).orElseThrow(() -> new io.granary.common.GranaryException(
                        file + " uses an encoding streams do not read yet", "rewrite it with Iceberg's defaults"))) {
                    while (batches.hasNext()) {
                        try (VectorSchemaRoot part = batches.next(allocator)) {
                            org.apache.arrow.vector.VarCharVector values = (org.apache.arrow.vector.VarCharVector) part.getVector(0);
                            for (int i = 0; i < part.getRowCount(); i++) {
                                if (!values.isNull(i)) {
                                    found.add(new String(values.get(i), java.nio.charset.StandardCharsets.UTF_8));
                                }
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new io.granary.common.GranaryException("cannot read " + file + " in the cache: " + e.getMessage(),
                            "run `granary cache verify`: a damaged file is dropped and fetched again", e);
                }
            }
        }
        return List.copyOf(found);
    }

    /** The Arrow type of an Iceberg field read here. */
    static Field arrowField(Types.NestedField field) {
        ArrowType type = switch (field.type().typeId()) {
            case LONG -> new ArrowType.Int(64, true);
            case INTEGER -> new ArrowType.Int(32, true);
            case DOUBLE -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
            case FLOAT -> new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
            case BOOLEAN -> ArrowType.Bool.INSTANCE;
            case STRING -> ArrowType.Utf8.INSTANCE;
            case BINARY -> ArrowType.Binary.INSTANCE;
            case DATE -> new ArrowType.Date(DateUnit.DAY);
            case TIMESTAMP -> new ArrowType.Timestamp(TimeUnit.MICROSECOND,
                    ((Types.TimestampType) field.type()).shouldAdjustToUTC() ? "UTC" : null);
            default -> throw new IllegalArgumentException("no Arrow type for " + field.type() + " here");
        };
        return new Field(field.name(), new FieldType(field.isOptional(), type, null), null);
    }

    Schema schema() {
        return schema;
    }

    boolean hasNext() {
        return reader.hasNext();
    }

    /** Skips the next row group (one this stream does not read). */
    void skip() {
        reader.skip();
    }

    /**
     * The next row group as a batch the caller owns (and closes), its column chunks read but its
     * pages decoded only as far as {@link Progressive#ensure} asks: the first rows can go out
     * before the last are decoded.
     */
    Progressive start(BufferAllocator allocator) throws IOException {
        return start(allocator, null, VectorSchemaRoot::close);
    }

    /**
     * As {@link #start(BufferAllocator)}, decoding into {@code recycled} (vectors of an earlier row
     * group of this schema that nothing else holds) when it has room: a new row group's vectors,
     * fresh from the allocator, cost their size in page faults; {@code onClose} takes them back.
     */
    Progressive start(BufferAllocator allocator, VectorSchemaRoot recycled, java.util.function.Consumer<VectorSchemaRoot> onClose) throws IOException {
        int rows = Math.toIntExact(reader.nextRows());
        VectorSchemaRoot batch = recycled;
        if (batch != null && batch.getFieldVectors().stream().anyMatch(vector -> vector.getValueCapacity() < rows)) {
            batch.close();
            batch = null;
        }
        boolean reused = batch != null;
        if (batch == null) {
            batch = VectorSchemaRoot.create(schema, allocator);
        }
        try {
            ArrowColumn[] columns = new ArrowColumn[fields.size()];
            for (int c = 0; c < columns.length; c++) {
                FieldVector vector = batch.getVector(c);
                if (reused) {
                    // every row's validity bit and value is written again as pages are decoded; strings start over
                    if (vector instanceof org.apache.arrow.vector.BaseVariableWidthVector strings) {
                        strings.reset();
                    } else {
                        vector.setValueCount(0);
                    }
                } else {
                    vector.setInitialCapacity(rows);
                    vector.allocateNew();
                }
                columns[c] = new ArrowColumn(fields.get(c).type().typeId(), vector);
            }
            return new Progressive(batch, reader.start(columns, 0), onClose);
        } catch (IOException | RuntimeException e) {
            batch.close();
            throw e;
        }
    }

    /** A row group decoded as far as asked; its vectors' value counts say how far each column is. */
    static final class Progressive implements AutoCloseable {
        private final VectorSchemaRoot root;
        private final ParquetColumns.RowGroup<ArrowColumn> group;
        private final java.util.function.Consumer<VectorSchemaRoot> onClose;
        private int ready;
        private boolean closed;

        private Progressive(VectorSchemaRoot root, ParquetColumns.RowGroup<ArrowColumn> group, java.util.function.Consumer<VectorSchemaRoot> onClose) {
            this.root = root;
            this.group = group;
            this.onClose = onClose;
            root.setRowCount(0);
        }

        VectorSchemaRoot root() {
            return root;
        }

        int rows() {
            return group.rows();
        }

        /** Decodes until rows [0, {@code rows}) of every column are there. */
        synchronized void ensure(int rows) throws IOException {
            if (closed) {
                throw new IllegalStateException("the row group is closed");
            }
            if (rows <= ready) {
                return;
            }
            group.decodeTo(rows);
            for (int c = 0; c < root.getFieldVectors().size(); c++) {
                // each vector's own count: a string vector told fewer rows than it holds would write over them
                root.getVector(c).setValueCount(group.decoded(c));
            }
            ready = group.decoded();
            root.setRowCount(ready);
        }

        /**
         * Decodes the rest in steps of {@code step} rows, letting go of the row group between steps so
         * that batches can be sliced off what is decoded meanwhile (on a thread of its own).
         */
        void decodeAhead(int step) throws IOException {
            while (true) {
                synchronized (this) {
                    if (closed || ready >= group.rows()) {
                        return;
                    }
                    ensure(ready + step);
                }
            }
        }

        synchronized boolean closed() {
            return closed;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                onClose.accept(root);
            }
        }
    }

    /** The next row group as a batch the caller owns (and closes). */
    VectorSchemaRoot next(BufferAllocator allocator) throws IOException {
        int rows = Math.toIntExact(reader.nextRows());
        VectorSchemaRoot batch = VectorSchemaRoot.create(schema, allocator);
        try {
            ArrowColumn[] columns = new ArrowColumn[fields.size()];
            for (int c = 0; c < columns.length; c++) {
                FieldVector vector = batch.getVector(c);
                vector.setInitialCapacity(rows);
                vector.allocateNew();
                columns[c] = new ArrowColumn(fields.get(c).type().typeId(), vector);
            }
            reader.read(columns, 0);
            for (FieldVector vector : batch.getFieldVectors()) {
                vector.setValueCount(rows);
            }
            batch.setRowCount(rows);
            return batch;
        } catch (IOException | RuntimeException e) {
            batch.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
