package io.granary.feature.offline;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.iceberg.DoubleFieldMetrics;
import org.apache.iceberg.FieldMetrics;
import org.apache.iceberg.FloatFieldMetrics;
import org.apache.iceberg.parquet.ParquetValueWriter;
import org.apache.iceberg.parquet.ParquetValueWriters;
import org.apache.iceberg.parquet.TripleWriter;
import org.apache.iceberg.types.Type;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnWriteStore;
import org.apache.parquet.schema.MessageType;

/**
 * Writes the rows of a point-in-time join's output to Parquet straight from the column arrays
 * they are held in: the value "written" is a row number, and each column hands its own primitive
 * to its Parquet column, so no record, boxed number or date object is made per row.
 */
final class OutputRows implements ParquetValueWriter<Integer> {

    private final List<Column> columns = new ArrayList<>();

    /** {@code values} in the order of the file schema's top-level (all primitive) fields. */
    OutputRows(MessageType fileSchema, List<ColumnValues> values) {
        if (fileSchema.getFieldCount() != values.size() || fileSchema.getColumns().size() != values.size()) {
            throw new IllegalArgumentException("expected " + values.size() + " flat columns, the file has " + fileSchema.getColumns());
        }
        for (int c = 0; c < values.size(); c++) {
            columns.add(new Column(fileSchema.getColumns().get(c), values.get(c)));
        }
    }

    @Override
    public void write(int repetitionLevel, Integer row) {
        int at = row;
        for (Column column : columns) {
            column.write(at);
        }
    }

    @Override
    public List<TripleWriter<?>> columns() {
        return columns.stream().flatMap(column -> column.columns().stream()).toList();
    }

    @Override
    public void setColumnStore(ColumnWriteStore store) {
        columns.forEach(column -> column.setColumnStore(store));
    }

    @Override
    public Stream<FieldMetrics<?>> metrics() {
        return columns.stream().flatMap(Column::metrics);
    }

    /** One top-level column; NaN counts and bounds of floating point values kept as Iceberg's own writers keep them. */
    private static final class Column extends ParquetValueWriters.PrimitiveWriter<Object> {

        private final ColumnValues values;
        private final DoubleFieldMetrics.Builder doubleMetrics;
        private final FloatFieldMetrics.Builder floatMetrics;

        Column(ColumnDescriptor descriptor, ColumnValues values) {
            super(descriptor);
            this.values = values;
            int id = descriptor.getPrimitiveType().getId().intValue();
            this.doubleMetrics = values.typeId() == Type.TypeID.DOUBLE ? new DoubleFieldMetrics.Builder(id) : null;
            this.floatMetrics = values.typeId() == Type.TypeID.FLOAT ? new FloatFieldMetrics.Builder(id) : null;
        }

        void write(int at) {
            values.writeTo(column, at);
            if (doubleMetrics != null && !values.isNull(at)) {
                doubleMetrics.addValue(values.doubleAt(at));
            } else if (floatMetrics != null && !values.isNull(at)) {
                floatMetrics.addValue(values.floatAt(at));
            }
        }

        @Override
        public Stream<FieldMetrics<?>> metrics() {
            return doubleMetrics != null ? Stream.of(doubleMetrics.build())
                    : floatMetrics != null ? Stream.of(floatMetrics.build()) : Stream.empty();
        }
    }
}
