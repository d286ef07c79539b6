package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.expressions.Evaluator;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.parquet.ParquetMetricsRowGroupFilter;
import org.apache.iceberg.types.Types;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.MessageType;

/**
 * A filter pushed down to a table's cached files when a stream is planned: row groups whose
 * statistics rule it out are skipped unread (Iceberg's own metrics evaluator), the filter's
 * columns of the others are decoded and each row tested (Iceberg's evaluator), and the units
 * become the rows that pass. Planning thus knows every unit's rows, which static mode needs to
 * give every rank the same count.
 */
final class TableFilter {

    /** The units left, holding only the rows that pass, and for each unit not kept whole the rows it keeps (ascending). */
    record Result(List<StreamUnit> units, Map<StreamUnit, int[]> selections, long rowGroupsSkipped) {}

    private TableFilter() {}

    static Result apply(List<StreamUnit> units, Function<String, Path> files, Schema schema, Expression filter, List<Types.NestedField> columns) {
        Map<String, List<StreamUnit>> byFile = new LinkedHashMap<>();
        for (StreamUnit unit : units) {
            byFile.computeIfAbsent(unit.file(), f -> new ArrayList<>()).add(unit);
        }
        Map<StreamUnit, StreamUnit> kept = new HashMap<>();
        Map<StreamUnit, int[]> selections = new HashMap<>();
        long skipped = 0;
        ParquetMetricsRowGroupFilter statistics = new ParquetMetricsRowGroupFilter(schema, filter, true);
        Evaluator evaluator = new Evaluator(schema.asStruct(), filter, true);
        try (BufferAllocator allocator = new RootAllocator()) {
            for (Map.Entry<String, List<StreamUnit>> file : byFile.entrySet()) {
                Path path = files.apply(file.getKey());
                MessageType fileSchema;
                List<BlockMetaData> rowGroups;
                try (ParquetFileReader footer = ParquetFileReader.open(new LocalInputFile(path))) {
                    fileSchema = footer.getFooter().getFileMetaData().getSchema();
                    rowGroups = footer.getFooter().getBlocks();
                }
                try (RowGroupBatches batches = RowGroupBatches.open(path, columns).orElseThrow(() -> new GranaryException(
                        file.getKey() + " uses an encoding or a column type the filter's columns cannot be read in", "stream it without a filter"))) {
                    int next = 0;
                    for (StreamUnit unit : file.getValue()) {
                        if (!statistics.shouldRead(fileSchema, rowGroups.get(unit.part()))) {
                            skipped++;
                            continue;
                        }
                        for (; next < unit.part(); next++) {
                            batches.skip();
                        }
                        next++;
                        try (VectorSchemaRoot decoded = batches.next(allocator)) {
                            int[] rows = select(decoded, columns, schema, evaluator);
                            if (rows.length == 0) {
                                continue;
                            }
                            StreamUnit filtered = new StreamUnit(unit.file(), unit.part(), rows.length);
                            kept.put(unit, filtered);
                            if (rows.length < unit.rows()) {
                                selections.put(filtered, rows);
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new GranaryException("cannot read a cached data file to filter it: " + e.getMessage(),
                    "run `granary cache verify`: a damaged file is dropped and fetched again", e);
        }
        List<StreamUnit> left = new ArrayList<>();
        for (StreamUnit unit : units) {
            StreamUnit filtered = kept.get(unit);
            if (filtered != null) {
                left.add(filtered);
            }
        }
        return new Result(left, selections, skipped);
    }

    /** The rows of a decoded row group (the filter's columns) that pass. */
    private static int[] select(VectorSchemaRoot decoded, List<Types.NestedField> columns, Schema schema, Evaluator evaluator) {
        ArrowRow row = new ArrowRow(decoded, columns, schema);
        int[] selected = new int[decoded.getRowCount()];
        int count = 0;
        for (int r = 0; r < decoded.getRowCount(); r++) {
            row.at = r;
            if (evaluator.eval(row)) {
                selected[count++] = r;
            }
        }
        return java.util.Arrays.copyOf(selected, count);
    }

    /** One row of decoded vectors as Iceberg sees a row: by position in the table's schema, values in Iceberg's Java types. */
    private static final class ArrowRow implements StructLike {
        private final FieldVector[] byPosition;
        private int at;

        ArrowRow(VectorSchemaRoot decoded, List<Types.NestedField> columns, Schema schema) {
            List<Types.NestedField> all = schema.columns();
            byPosition = new FieldVector[all.size()];
            for (int c = 0; c < columns.size(); c++) {
                byPosition[all.indexOf(columns.get(c))] = decoded.getVector(c);
            }
        }

        @Override
        public int size() {
            return byPosition.length;
        }

        @Override
        public <T> T get(int pos, Class<T> javaClass) {
            FieldVector vector = byPosition[pos];
            if (vector == null || vector.isNull(at)) {
                return null;
            }
            Object value;
            if (vector instanceof BigIntVector v) {
                value = v.get(at);
            } else if (vector instanceof IntVector v) {
                value = v.get(at);
            } else if (vector instanceof Float8Vector v) {
                value = v.get(at);
            } else if (vector instanceof Float4Vector v) {
                value = v.get(at);
            } else if (vector instanceof BitVector v) {
                value = v.get(at) != 0;
            } else if (vector instanceof DateDayVector v) {
                value = v.get(at);
            } else if (vector instanceof TimeStampVector v) {
                value = v.get(at);
            } else if (vector instanceof VarCharVector v) {
                value = new String(v.get(at), StandardCharsets.UTF_8);
            } else if (vector instanceof VarBinaryVector v) {
                value = ByteBuffer.wrap(v.get(at));
            } else {
                throw new IllegalStateException("no filter on " + vector.getField());
            }
            return javaClass.cast(value);
        }

        @Override
        public <T> void set(int pos, T value) {
            throw new UnsupportedOperationException("read-only");
        }
    }
}
