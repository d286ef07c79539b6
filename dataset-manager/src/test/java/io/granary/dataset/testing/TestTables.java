package io.granary.dataset.testing;

import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;

/** Commits rows for tests: CSV files as a user would, or data files written row by row in a chosen order. */
public final class TestTables {

    private TestTables() {}

    /**
     * Writes each list of rows (values in the table's column order, as Iceberg's generic records
     * hold them) as one data file, and appends them all in one commit, in the order given. Returns
     * the snapshot id.
     */
    public static long appendFiles(Datasets datasets, DatasetName name, List<List<Object[]>> files) {
        return appendFiles(datasets, name, files, Provenance.of("test", List.of()));
    }

    /** As {@link #appendFiles(Datasets, DatasetName, List)}, the commit recording {@code provenance} (its inputs, say). */
    public static long appendFiles(Datasets datasets, DatasetName name, List<List<Object[]>> files, Provenance provenance) {
        Table table = datasets.load(name);
        List<DataFile> written = new ArrayList<>();
        for (List<Object[]> rows : files) {
            written.add(write(table, rows));
        }
        return datasets.appendDataFiles(name, written, provenance, Map.of());
    }

    /**
     * Writes CSV lines (a header first) into {@code dir} and commits them as a user would with
     * `dataset create` (when {@code name} does not exist yet) or `dataset append`.
     */
    public static void csv(Datasets datasets, java.nio.file.Path dir, DatasetName name, String... lines) {
        java.nio.file.Path file = TestFiles.write(dir, name + "-" + System.nanoTime() + ".csv", lines);
        if (datasets.exists(name)) {
            datasets.append(io.granary.dataset.DatasetRef.latest(name), List.of(file), io.granary.dataset.WriteOptions.defaults(),
                    Provenance.of("test", List.of()));
        } else {
            datasets.create(name, List.of(file), java.util.Optional.empty(), List.of(), io.granary.dataset.WriteOptions.defaults(),
                    Provenance.of("test", List.of()));
        }
    }

    /** One data file's rows, for {@link #appendFiles}. */
    public static List<Object[]> file(Object[]... rows) {
        return List.of(rows);
    }

    /** One row's values, for {@link #appendFiles}. */
    public static Object[] row(Object... values) {
        return values;
    }

    private static DataFile write(Table table, List<Object[]> rows) {
        GenericRecord template = GenericRecord.create(table.schema());
        PartitionKey partition = new PartitionKey(table.spec(), table.schema());
        InternalRecordWrapper wrapper = new InternalRecordWrapper(table.schema().asStruct());
        List<Record> records = new ArrayList<>();
        for (Object[] values : rows) {
            Record record = template.copy();
            for (int i = 0; i < values.length; i++) {
                record.set(i, values[i]);
            }
            records.add(record);
        }
        if (!records.isEmpty()) {
            partition.partition(wrapper.wrap(records.get(0)));
        }
        String location = table.locationProvider().newDataLocation(table.spec(), partition, UUID.randomUUID() + ".parquet");
        try {
            DataWriter<Record> writer = Parquet.writeData(table.io().newOutputFile(location))
                    .schema(table.schema())
                    .createWriterFunc(GenericParquetWriter::create)
                    .withSpec(table.spec())
                    .withPartition(table.spec().isUnpartitioned() ? null : partition)
                    .overwrite()
                    .build();
            try (writer) {
                records.forEach(writer::write);
            }
            return writer.toDataFile();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
