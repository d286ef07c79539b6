package io.granary.packer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.catalog.CatalogSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardDatasetsTest {

    @TempDir
    Path temp;

    private Datasets datasets;
    private final DatasetName name = DatasetName.parse("media.speech");

    @BeforeEach
    void openCatalog() {
        datasets = Datasets.open(CatalogSettings.localHadoop(temp.resolve("warehouse")));
    }

    @AfterEach
    void closeCatalog() throws Exception {
        datasets.close();
    }

    private static Set<String> keys(Table table, Long snapshotId) throws Exception {
        Set<String> keys = new HashSet<>();
        IcebergGenerics.ScanBuilder scan = IcebergGenerics.read(table);
        try (CloseableIterable<Record> rows = (snapshotId == null ? scan : scan.useSnapshot(snapshotId)).build()) {
            rows.forEach(row -> keys.add((String) row.getField("key")));
        }
        return keys;
    }

    @Test
    void incrementalPackingIntoADatasetAddsASnapshotWithOnlyTheNewKeys() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 5);
        Path out = temp.resolve("shards");
        PackOptions options = PackOptions.builder(source, out).dataset(name).build();

        Packer.Result first = new Packer(datasets, false).pack(options);
        Trees.file(source, "spk9/new.wav", 2000, 1);
        Trees.file(source, "spk9/new.json", 30, 2);
        Packer.Result second = new Packer(datasets, false).pack(options);

        Table table = datasets.load(name);
        List<Snapshot> snapshots = new ArrayList<>();
        table.snapshots().forEach(snapshots::add);
        assertThat(snapshots).extracting(Snapshot::snapshotId).containsExactly(first.snapshotId(), second.snapshotId());
        assertThat(snapshots.get(1).summary()).containsEntry("added-records", "2").containsEntry(Provenance.COMMAND, "pack")
                .containsEntry(ShardDatasets.SHARDS, "shard-000001.tar..shard-000001.tar");
        assertThat(Provenance.fromSummary(snapshots.get(1).summary()).orElseThrow().inputs()).containsExactly(source.toUri().toString());
        assertThat(keys(table, first.snapshotId())).hasSize(5).doesNotContain("spk9/new");
        assertThat(keys(table, null)).hasSize(6).contains("spk9/new");
        assertThat(table.properties()).containsEntry(ShardDatasets.LOCATION, out.toString());

        try (ShardSet set = ShardSet.open(datasets, name)) {
            assertThat(set.get("spk9/new").member("json")).isPresent();
        }
        Packer.Result third = new Packer(datasets, false).pack(options);
        assertThat(third.samples()).isZero();
        assertThat(datasets.load(name).snapshots()).hasSize(2);
    }

    @Test
    void metadataColumnsAddedLaterEvolveTheDatasetSchema() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Path out = temp.resolve("shards");
        new Packer(datasets, false).pack(PackOptions.builder(source, out).dataset(name).build());
        Trees.file(source, "spk0/late.wav", 100, 3);
        Path metadata = Trees.file(temp, "meta.jsonl", "{\"key\": \"spk0/late\", \"speaker\": \"ann\"}\n".getBytes());

        new Packer(datasets, false).pack(PackOptions.builder(source, out).dataset(name).metadata(metadata).build());

        Table table = datasets.load(name);
        assertThat(table.schema().findField("speaker")).isNotNull();
        List<Object> speakers = new ArrayList<>();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
            rows.forEach(row -> speakers.add(row.getField("speaker")));
        }
        assertThat(speakers).containsOnly(null, "ann").contains("ann");
    }

    @Test
    void aShardSetStaysWithItsDataset() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Path out = temp.resolve("shards");
        new Packer(datasets, false).pack(PackOptions.builder(source, out).dataset(name).build());

        assertThatThrownBy(() -> new Packer(datasets, false).pack(PackOptions.builder(source, out).dataset(DatasetName.parse("media.other")).build()))
                .isInstanceOf(GranaryException.class).hasMessageContaining("holds the shards of dataset media.speech");
        assertThatThrownBy(() -> new Packer(datasets, false).pack(PackOptions.builder(source, temp.resolve("elsewhere")).dataset(name).build()))
                .isInstanceOf(GranaryException.class).hasMessageContaining("dataset media.speech already exists with its shards in " + out);
    }
}
