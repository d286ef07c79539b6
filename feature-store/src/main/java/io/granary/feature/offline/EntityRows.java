package io.granary.feature.offline;

import io.granary.dataset.parquet.ParquetColumns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.BaseCombinedScanTask;
import org.apache.iceberg.CombinedScanTask;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableScan;
import org.apache.iceberg.arrow.vectorized.ArrowReader;
import org.apache.iceberg.arrow.vectorized.ColumnarBatch;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.CloseableIterator;
import org.apache.iceberg.types.Types;

/** The entity rows of a point-in-time join, column by column in primitive arrays, read with Iceberg's Arrow reader. */
final class EntityRows {

    private static final int BATCH_ROWS = 64 * 1024;

    private final ColumnValues[] columns;
    private final int size;

    private EntityRows(ColumnValues[] columns, int size) {
        this.columns = columns;
        this.size = size;
    }

    /** Rows already held in columns (of {@code size} values each). */
    static EntityRows of(ColumnValues[] columns, int size) {
        return new EntityRows(columns.clone(), size);
    }

    /** Every row of {@code table} at {@code snapshotId}, its columns in the order of {@code schema}. */
    static EntityRows read(String dataset, Table table, long snapshotId, Schema schema) {
        List<String> names = schema.columns().stream().map(Types.NestedField::name).toList();
        TableScan scan = table.newScan().useSnapshot(snapshotId).select(names);
        long expected = 0;
        List<FileScanTask> files = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = scan.planFiles()) {
            for (FileScanTask task : tasks) {
                files.add(task);
                expected += task.file().recordCount();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Types.NestedField> scanned = scan.schema().columns();
        ColumnValues[] columns = new ColumnValues[names.size()];
        int[] positions = new int[names.size()];
        for (int c = 0; c < names.size(); c++) {
            columns[c] = ColumnValues.allocate(schema.columns().get(c).type(), (int) expected);
            for (int p = 0; p < scanned.size(); p++) {
                if (scanned.get(p).name().equals(names.get(c))) {
                    positions[c] = p;
                }
            }
        }
        int count = 0;
        for (FileScanTask file : files) {
            // file by file, so that a damaged one is named
            try {
                int read = -1;
                try {
                    read = readColumns(dataset, table, file, schema.columns(), columns, count, expected);
                } catch (ParquetColumns.Unsupported e) {
                    // read with Iceberg's reader below
                }
                count = read >= 0 ? read : readArrow(dataset, scan, file, columns, positions, count, expected);
            } catch (IOException | RuntimeException e) {
                throw LocalPointInTimeJoin.unreadable(dataset, file.file().location(), e);
            }
        }
        return new EntityRows(columns, count);
    }

    /** Reads a file's rows straight from its Parquet pages; the count after them, or -1 when the file is one for Iceberg's reader. */
    private static int readColumns(String dataset, Table table, FileScanTask file, List<Types.NestedField> fields, ColumnValues[] columns, int count,
                                   long expected) throws IOException {
        Optional<ParquetColumns> opened = ParquetColumns.open(table.io().newInputFile(file.file().location(),
                file.file().fileSizeInBytes()), fields);
        if (opened.isEmpty()) {
            return -1;
        }
        try (ParquetColumns reader = opened.get()) {
            while (reader.hasNext()) {
                long rows = reader.nextRows();
                if (count + rows > expected) {
                    throw new IllegalStateException(dataset + " holds more rows than its files' record counts say");
                }
                reader.read(columns, count);
                count += (int) rows;
            }
        }
        return count;
    }

    /** Reads a file's rows with Iceberg's Arrow reader; the count after them. */
    private static int readArrow(String dataset, TableScan scan, FileScanTask file, ColumnValues[] columns, int[] positions, int count,
                                 long expected) throws IOException {
        CloseableIterable<CombinedScanTask> tasks = CloseableIterable.withNoopClose(List.of(new BaseCombinedScanTask(file)));
        try (ArrowReader reader = new ArrowReader(scan, BATCH_ROWS, true);
             CloseableIterator<ColumnarBatch> batches = reader.open(tasks)) {
            while (batches.hasNext()) {
                // copied out at once: the reader reuses its vectors for the next batch, and closes them
                ColumnarBatch batch = batches.next();
                if (count + batch.numRows() > expected) {
                    throw new IllegalStateException(dataset + " holds more rows than its files' record counts say");
                }
                for (int c = 0; c < columns.length; c++) {
                    columns[c].append(count, batch.column(positions[c]), batch.numRows());
                }
                count += batch.numRows();
            }
        }
        return count;
    }

    int size() {
        return size;
    }

    ColumnValues column(int index) {
        return columns[index];
    }

    /** The value as Iceberg's generic records hold it. */
    Object value(int row, int column) {
        return columns[column].get(row);
    }
}
