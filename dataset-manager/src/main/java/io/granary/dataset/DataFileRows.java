package io.granary.dataset;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericDeleteFilter;
import org.apache.iceberg.data.IdentityPartitionConverters;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.util.PartitionUtil;

/**
 * The rows of one Parquet data file in the order they were written, with the row-level deletes
 * of its scan task applied: what readers that let the last written row win (see {@link
 * WriteOrder}) read file by file. A projection may include Iceberg's {@code _pos} metadata column.
 */
public final class DataFileRows {

    private DataFileRows() {}

    public static void forEach(Table table, DataFile file, Optional<FileScanTask> task, Schema projection, Consumer<Record> action) {
        if (file.format() != FileFormat.PARQUET) {
            throw new GranaryException("data file " + file.location() + " is " + file.format() + ": Granary reads Parquet data files here",
                    "rewrite the dataset as Parquet (Granary writes only Parquet), e.g. with `granary dataset create ... --query`");
        }
        Optional<GenericDeleteFilter> deletes = task.filter(t -> !t.deletes().isEmpty())
                .map(t -> new GenericDeleteFilter(table.io(), t, table.schema(), projection));
        Schema read = deletes.map(GenericDeleteFilter::requiredSchema).orElse(projection);
        Map<Integer, ?> constants = task.<Map<Integer, ?>>map(t -> PartitionUtil.constantsMap(t, IdentityPartitionConverters::convertConstant))
                .orElse(Map.of());
        CloseableIterable<Record> records = Parquet.read(table.io().newInputFile(file.location()))
                .project(read)
                .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(read, fileSchema, constants))
                .build();
        try (CloseableIterable<Record> kept = deletes.map(filter -> filter.filter(records)).orElse(records)) {
            kept.forEach(action);
        } catch (IOException | RuntimeException e) {
            if (e instanceof GranaryException granary) {
                throw granary;
            }
            throw new GranaryException("cannot read " + file.location() + ": " + e.getMessage(),
                    "the data file may be damaged or missing: check the warehouse", e);
        }
    }
}
