package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.iceberg.Files;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.mapping.MappingUtil;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.parquet.ParquetSchemaUtil;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.MessageType;

/**
 * A Parquet file from anywhere (Spark, pandas, DuckDB, Iceberg). Its columns are matched to the
 * dataset by name, never by field id: a foreign file's ids mean nothing in our tables.
 */
final class ParquetSource implements Source {

    private static final int BATCH_ROWS = 4096;

    private final SourceFile file;
    private MessageType footer;
    private boolean hasIds;

    ParquetSource(SourceFile file) {
        this.file = file;
    }

    @Override
    public SourceFile file() {
        return file;
    }

    private Schema fileSchema() {
        if (footer == null) {
            try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file.path()))) {
                MessageType type = reader.getFooter().getFileMetaData().getSchema();
                hasIds = ParquetSchemaUtil.hasIds(type);
                footer = hasIds ? type : ParquetSchemaUtil.addFallbackIds(type);
            } catch (IOException | RuntimeException e) {
                throw new GranaryException("cannot read " + file + " as Parquet: " + e.getMessage(),
                        "check that it is a complete Parquet file (a truncated copy has no footer)", e);
            }
        }
        try {
            return ParquetSchemaUtil.convert(footer);
        } catch (RuntimeException e) {
            throw new GranaryException("unsupported column type in " + file + ": " + e.getMessage(),
                    "rewrite the file with standard types (e.g. INT96 timestamps as TIMESTAMP_MICROS)", e);
        }
    }

    @Override
    public Optional<List<String>> columnNames() {
        return Optional.of(fileSchema().columns().stream().map(Types.NestedField::name).toList());
    }

    @Override
    public Schema schema() {
        Map<String, Type> columns = new LinkedHashMap<>();
        for (Types.NestedField field : fileSchema().columns()) {
            columns.put(field.name(), microsecondTimestamps(field.type()));
        }
        return Schemas.ofColumns(columns);
    }

    /** Nanosecond timestamps (pandas' default) are stored as microseconds, as Iceberg v2 requires. */
    private static Type microsecondTimestamps(Type type) {
        if (type.typeId() == Type.TypeID.TIMESTAMP_NANO) {
            return ((Types.TimestampNanoType) type).shouldAdjustToUTC() ? Types.TimestampType.withZone() : Types.TimestampType.withoutZone();
        }
        return type;
    }

    @Override
    public void read(Schema target, Consumer<RowBatch> sink) throws IOException {
        Schema fileSchema = fileSchema();
        List<Types.NestedField> fileColumns = fileSchema.columns();
        List<Types.NestedField> targetColumns = target.columns();
        int[] positions = new int[fileColumns.size()];
        for (int i = 0; i < fileColumns.size(); i++) {
            Types.NestedField column = fileColumns.get(i);
            Types.NestedField field = target.findField(column.name());
            if (field == null) {
                throw Reconcile.unknownColumn(file, column.name(), target);
            }
            if (!Promotion.canStore(column.type(), field.type())) {
                throw Promotion.mismatch(file, column.name(), field.type(), column.type());
            }
            positions[i] = targetColumns.indexOf(field);
        }
        int[] required = Reconcile.requiredPositions(target, fileColumns.stream().map(Types.NestedField::name).toList(), file);

        Parquet.ReadBuilder builder = Parquet.read(Files.localInput(file.path().toFile()))
                .project(fileSchema)
                .createReaderFunc(messageType -> GenericParquetReaders.buildReader(fileSchema, messageType));
        if (!hasIds) {
            builder.withNameMapping(MappingUtil.create(fileSchema));
        }
        long averageRowBytes = 0;
        try (CloseableIterable<Record> records = builder.build()) {
            List<Record> batch = new ArrayList<>(BATCH_ROWS);
            long row = 0;
            for (Record record : records) {
                batch.add(record);
                row++;
                if (batch.size() == BATCH_ROWS) {
                    averageRowBytes = Math.max(1, file.size() / Math.max(row, 1));
                    sink.accept(new Batch(file, target, positions, required, batch, row - batch.size(), averageRowBytes));
                    batch = new ArrayList<>(BATCH_ROWS);
                }
            }
            if (!batch.isEmpty()) {
                sink.accept(new Batch(file, target, positions, required, batch, row - batch.size(), Math.max(1, file.size() / row)));
            } else if (row == 0) {
                throw new GranaryException("input file has no rows: " + file, "give a file with at least one row");
            }
        } catch (org.apache.iceberg.exceptions.RuntimeIOException | org.apache.parquet.io.ParquetDecodingException e) {
            throw new GranaryException("cannot read " + file + " as Parquet: " + e.getMessage(),
                    "check that the file is complete and not corrupted", e);
        }
    }

    private record Batch(SourceFile file, Schema target, int[] positions, int[] required, List<Record> fileRecords,
                         long firstRow, long rowBytes) implements RowBatch {
        @Override
        public long bytes() {
            return rowBytes * fileRecords.size();
        }

        @Override
        public List<Record> toRecords() {
            GenericRecord template = GenericRecord.create(target);
            List<Types.NestedField> columns = target.columns();
            List<Record> records = new ArrayList<>(fileRecords.size());
            for (int r = 0; r < fileRecords.size(); r++) {
                Record source = fileRecords.get(r);
                Record record = template.copy();
                for (int c = 0; c < positions.length; c++) {
                    record.set(positions[c], Promotion.promote(source.get(c), columns.get(positions[c]).type()));
                }
                // Parquet has no line numbers: name the row instead (1-based).
                Reconcile.checkRequired(record, required, target, file, firstRow + r + 1);
                records.add(record);
            }
            return records;
        }
    }
}
