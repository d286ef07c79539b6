package io.granary.sample.component;

import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/**
 * Small tables read and written in this process, row by row, for the built-in components'
 * in-process paths: a node over a few hundred thousand rows then costs no Spark job, no shuffle
 * and no executor round trip, which is most of its time on Spark.
 */
public final class LocalTables {

    /** The most rows a node takes in process with --engine auto: past them Spark's parallel jobs pay for themselves. */
    public static final long MAX_ROWS = 250_000;

    private LocalTables() {}

    /** The rows a table holds (its parts together), from snapshot summaries: no data is read. */
    public static long rows(Datasets datasets, TableArg table) {
        long rows = 0;
        for (TableArg.Part part : table.parts()) {
            Table loaded = datasets.load(DatasetName.parse(part.dataset()));
            Snapshot snapshot = part.snapshotId().map(loaded::snapshot).orElse(loaded.currentSnapshot());
            if (snapshot == null) {
                continue;
            }
            if (part.since().isEmpty()) {
                rows += Long.parseLong(snapshot.summary().getOrDefault("total-records", "0"));
            } else {
                rows += Long.parseLong(snapshot.summary().getOrDefault("total-records", "0"))
                        - Long.parseLong(loaded.snapshot(part.since().get()).summary().getOrDefault("total-records", "0"));
            }
        }
        return rows;
    }

    /** The schema of a table's rows (its newest part's, at its snapshot), optionally only some columns. */
    static Schema schema(Datasets datasets, TableArg table, List<String> columns) {
        TableArg.Part newest = table.parts().get(table.parts().size() - 1);
        Table loaded = datasets.load(DatasetName.parse(newest.dataset()));
        Integer schemaId = newest.snapshotId().map(id -> loaded.snapshot(id).schemaId()).orElse(null);
        Schema schema = schemaId == null ? loaded.schema() : loaded.schemas().getOrDefault(schemaId, loaded.schema());
        return columns.isEmpty() ? schema : schema.select(columns);
    }

    /** Whether every column of a schema is of a type the in-process paths hold (and hash as Spark does). */
    static boolean plain(Schema schema) {
        return schema.columns().stream().allMatch(field -> SparkHash.supports(field.type()));
    }

    /** A table's rows, part after part (appended rows only for a part that says so), as generic records. */
    static CloseableIterable<Record> read(Datasets datasets, TableArg table, List<String> columns) {
        List<CloseableIterable<Record>> parts = new ArrayList<>();
        for (TableArg.Part part : table.parts()) {
            Table loaded = datasets.load(DatasetName.parse(part.dataset()));
            IcebergGenerics.ScanBuilder scan = IcebergGenerics.read(loaded);
            if (part.since().isPresent()) {
                scan = scan.appendsBetween(part.since().get(), part.snapshotId().orElseThrow());
            } else if (part.snapshotId().isPresent()) {
                scan = scan.useSnapshot(part.snapshotId().get());
            }
            if (!columns.isEmpty()) {
                scan = scan.select(columns.toArray(String[]::new));
            }
            parts.add(scan.build());
        }
        return CloseableIterable.concat(parts);
    }

    /** Writes rows (records of {@code table}'s schema, in its column order) into one new Parquet data file of it. */
    public static DataFile writeFile(Table table, CloseableIterable<Record> rows) {
        String location = table.locationProvider().newDataLocation(UUID.randomUUID() + ".parquet");
        try {
            DataWriter<Record> writer = Parquet.writeData(table.io().newOutputFile(location))
                    .schema(table.schema())
                    .createWriterFunc(GenericParquetWriter::create)
                    .withSpec(table.spec())
                    .setAll(table.properties())
                    .overwrite()
                    .build();
            try (writer; rows) {
                for (Record row : rows) {
                    writer.write(row);
                }
            } catch (IOException | RuntimeException e) {
                table.io().deleteFile(location);
                throw e;
            }
            return writer.toDataFile();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A schema of these columns, fresh ids in order (the ids a new table reassigns anyway). */
    static Schema schemaOf(List<Types.NestedField> columns) {
        List<Types.NestedField> renumbered = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            Types.NestedField column = columns.get(i);
            renumbered.add(Types.NestedField.of(i + 1, true, column.name(), column.type(), column.doc()));
        }
        return new Schema(renumbered);
    }

    /** A field of a schema by name, for building output schemas. */
    static Optional<Types.NestedField> field(Schema schema, String name) {
        return Optional.ofNullable(schema.findField(name));
    }
}
