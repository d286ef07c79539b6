package io.granary.dataset;

import static io.granary.dataset.testing.TestTables.row;
import static org.assertj.core.api.Assertions.assertThat;

import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.testing.TestTables;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteOrderTest {

    @TempDir
    Path dir;

    Datasets datasets;

    static final DatasetName T = DatasetName.parse("demo.t");
    static final Schema SCHEMA = new Schema(
            Types.NestedField.optional(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "ts", Types.TimestampType.withZone()),
            Types.NestedField.optional(3, "v", Types.LongType.get()));
    static final OffsetDateTime TS = OffsetDateTime.parse("2026-11-28T10:00:00Z");

    @BeforeEach
    void openCatalog() {
        datasets = Datasets.open(CatalogSettings.localHadoop(dir.resolve("warehouse")));
    }

    @AfterEach
    void closeCatalog() throws Exception {
        datasets.close();
    }

    /** Commits one file per value, in one commit, each file holding the single row (1, TS, value). */
    private long commit(long... values) {
        List<List<Object[]>> files = new ArrayList<>();
        for (long value : values) {
            files.add(TestTables.file(row(1L, TS, value)));
        }
        return TestTables.appendFiles(datasets, T, files);
    }

    /** Each data file's value of v (every file here holds one), by location: planned apart, with the column stats. */
    private static List<Long> values(Table table, List<DataFile> files) {
        Map<String, Long> byLocation = new java.util.HashMap<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().includeColumnStats().planFiles()) {
            tasks.forEach(task -> byLocation.put(task.file().location(),
                    Conversions.fromByteBuffer(Types.LongType.get(), task.file().lowerBounds().get(3))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files.stream().map(file -> byLocation.get(file.location())).toList();
    }

    @Test
    void filesComeInCommitOrderThenInTheOrderEachCommitListedThem() {
        datasets.createEmpty(T, SCHEMA, Map.of());
        commit(10, 11, 12);
        commit(20);
        commit(31, 30);
        Table table = datasets.load(T);

        WriteOrder order = WriteOrder.of(table, Optional.of(table.currentSnapshot()));

        assertThat(values(table, order.files())).containsExactly(10L, 11L, 12L, 20L, 31L, 30L);
        List<WriteOrder.Place> places = order.files().stream().map(f -> order.place(f.location()).orElseThrow()).toList();
        assertThat(places).extracting(WriteOrder.Place::ordinal).containsExactly(0, 1, 2, 0, 0, 1);
        assertThat(places.get(0).sequence()).isLessThan(places.get(3).sequence());
        assertThat(places.get(3).sequence()).isLessThan(places.get(4).sequence());
        assertThat(places.get(4).rowOrder(7)).isLessThan(places.get(5).rowOrder(0));
        assertThat(order.ranks()).hasSize(6).containsEntry(order.files().get(4).location(), 4);
        assertThat(order.place("file:/nowhere.parquet")).isEmpty();
    }

    @Test
    void theOrderOutlivesManifestsMergedTogether() {
        // every commit merges the manifests into one: entries of several commits then share a manifest
        datasets.createEmpty(T, SCHEMA, Map.of("commit.manifest.min-count-to-merge", "2", "commit.manifest-merge.enabled", "true"));
        for (long commit = 1; commit <= 5; commit++) {
            commit(commit * 10 + 2, commit * 10 + 1);
        }
        Table table = datasets.load(T);
        assertThat(table.currentSnapshot().allManifests(table.io())).hasSizeLessThan(5);

        WriteOrder order = WriteOrder.of(table, Optional.of(table.currentSnapshot()));

        assertThat(values(table, order.files())).containsExactly(12L, 11L, 22L, 21L, 32L, 31L, 42L, 41L, 52L, 51L);
    }

    @Test
    void theTasksOfAFilteredScanAreSortedWithoutReadingTheManifestsAgain() throws IOException {
        datasets.createEmpty(T, SCHEMA, Map.of());
        commit(1, 2);
        commit(3);
        commit(5, 4);
        Table table = datasets.load(T);
        List<FileScanTask> tasks = new ArrayList<>();
        try (CloseableIterable<FileScanTask> planned = table.newScan().filter(Expressions.greaterThan("v", 1L)).planFiles()) {
            planned.forEach(tasks::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        List<FileScanTask> sorted = WriteOrder.sort(table, table.currentSnapshot(), tasks);

        assertThat(values(table, sorted.stream().map(FileScanTask::file).toList())).containsExactly(2L, 3L, 5L, 4L);
    }

    @Test
    void aTableWithoutSnapshotsHasNoFiles() {
        Table table = datasets.createEmpty(T, SCHEMA, Map.of());

        assertThat(WriteOrder.of(table, Optional.empty()).files()).isEmpty();
    }
}
