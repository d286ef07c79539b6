package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.parquet.ParquetUtil;
import org.apache.iceberg.types.Types;

/**
 * A shard set as a Granary dataset: its index parts are the data files of an Iceberg table, so
 * each pack into it is one snapshot holding exactly the new members, with lineage to the source.
 * The table's properties say where the shards are.
 */
final class ShardDatasets {

    static final String KIND = "granary.kind";
    static final String LOCATION = "granary.shards.location";
    static final String SHARDS = "granary.pack.shards";

    private final Datasets datasets;

    ShardDatasets(Datasets datasets) {
        this.datasets = datasets;
    }

    /** The dataset's schema with the metadata columns added (committed now, so new index parts carry its field ids). */
    Schema evolve(DatasetName name, Schema metadataColumns) {
        Table table = datasets.load(name);
        Schema wanted = IndexFiles.withMetadata(table.schema(), metadataColumns);
        if (wanted.columns().size() > table.schema().columns().size()) {
            UpdateSchema update = table.updateSchema();
            for (Types.NestedField column : wanted.columns()) {
                if (table.schema().findField(column.name()) == null) {
                    update.addColumn(column.name(), column.type());
                }
            }
            update.commit();
            table.refresh();
        }
        return table.schema();
    }

    /** Creates the dataset on its first pack, then appends the new index parts in one snapshot (once per run). */
    long register(DatasetName name, Path out, Schema schema, List<Manifest.Shard> newShards,
                  String runId, Path source) {
        Table table;
        if (!datasets.exists(name)) {
            table = datasets.createEmpty(name, schema, Map.of(KIND, "shards", LOCATION, out.toString()));
            if (!table.schema().sameSchema(schema)) {
                throw new IllegalStateException("the catalog gave " + name + " other field ids than its index parts: " + table.schema());
            }
        } else {
            table = datasets.load(name);
        }
        for (Snapshot snapshot : table.snapshots()) {
            if (runId.equals(snapshot.summary().get(Provenance.RUN_ID))) {
                return snapshot.snapshotId();
            }
        }
        if (newShards.isEmpty()) {
            return table.currentSnapshot() == null ? -1 : table.currentSnapshot().snapshotId();
        }
        List<DataFile> files = new ArrayList<>();
        for (Manifest.Shard shard : newShards) {
            Path part = out.resolve(shard.index());
            files.add(DataFiles.builder(PartitionSpec.unpartitioned())
                    .withPath(part.toString())
                    .withFormat(FileFormat.PARQUET)
                    .withFileSizeInBytes(part.toFile().length())
                    .withMetrics(ParquetUtil.fileMetrics(org.apache.iceberg.Files.localInput(part.toFile()), MetricsConfig.forTable(table)))
                    .build());
        }
        Provenance provenance = new Provenance("pack", runId, System.getProperty("user.name", "unknown"),
                List.of(source.toUri().toString()));
        String range = newShards.get(0).name() + ".." + newShards.get(newShards.size() - 1).name();
        try {
            return datasets.appendDataFiles(name, files, provenance, Map.of(SHARDS, range));
        } catch (GranaryException e) {
            throw new GranaryException(e.getMessage() + "; the shards are written and kept", "rerun the same command to register them", e);
        }
    }
}
