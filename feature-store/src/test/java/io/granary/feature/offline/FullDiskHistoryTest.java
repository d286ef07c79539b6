package io.granary.feature.offline;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.WriteResult;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.testing.TinyDisk;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process engine writing training data onto a real full disk (a tmpfs: needs root to mount, as on CI; skipped elsewhere). */
class FullDiskHistoryTest {

    private static final int ROWS = 20_000;

    @TempDir
    Path dir;

    private TinyDisk disk;

    @BeforeEach
    void mountTinyDisk() throws Exception {
        disk = TinyDisk.mount(dir.resolve("tiny"), "8m");
    }

    @AfterEach
    void unmount() throws Exception {
        if (disk != null) {
            disk.close();
        }
    }

    @Test
    void aFullDiskFailsTheRunClearlyLeavesNoFilesAndTheRerunCompletes() throws Exception {
        Path warehouse = disk.path().resolve("warehouse");
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(warehouse))) {
            String[] entities = new String[ROWS + 1];
            String[] stats = new String[ROWS + 1];
            entities[0] = "user_id,ts";
            stats[0] = "user_id,event_ts,score";
            for (int i = 1; i <= ROWS; i++) {
                entities[i] = i + ",2026-11-28T12:00:00Z";
                stats[i] = i + ",2026-11-28T10:00:00Z," + Math.sqrt(i);
            }
            create(datasets, "entities", write(dir, "entities.csv", entities));
            create(datasets, "stats", write(dir, "stats.csv", stats));
            Path yaml = write(dir, "features.yaml",
                    "entities:",
                    "  - {name: user, join_key: user_id, value_type: INT64}",
                    "feature_views:",
                    "  - {name: stats, entities: [user], ttl: 1d, source: {dataset: t.stats, timestamp_field: event_ts},",
                    "     features: [{name: score, dtype: DOUBLE}]}");
            Definitions definitions = Definitions.parse(yaml);
            Registry store = new Registry(dir.resolve("registry"));
            DefinitionChecker.check(definitions, store.load(), datasets);
            RegistryState registry = store.apply(definitions);
            LocalPointInTimeJoin join = new LocalPointInTimeJoin(datasets, registry);
            DatasetName out = DatasetName.parse("t.training");

            // fill the disk but for a few kilobytes: the inputs are there, the output does not fit
            Path filler = disk.path().resolve("filler");
            try (OutputStream stream = Files.newOutputStream(filler)) {
                byte[] block = new byte[4096];
                while (Files.getFileStore(disk.path()).getUsableSpace() > 16 * 1024) {
                    stream.write(block);
                    stream.flush();
                }
            }

            assertThatThrownBy(() -> join.history(DatasetRef.parse("t.entities"), Optional.empty(), registry.resolve(List.of("stats:score")),
                    false, out, Provenance.of("test", List.of())))
                    .isInstanceOf(GranaryException.class)
                    .hasMessageContaining("cannot write the rows of")
                    .hasMessageContaining("No space left on device")
                    .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("free space at").contains("nothing was committed"));
            assertThat(datasets.exists(out)).isFalse();
            assertThat(parquetFilesUnder(warehouse.resolve("t/training"))).as("data files left behind").isZero();

            Files.delete(filler);
            WriteResult result = join.history(DatasetRef.parse("t.entities"), Optional.empty(), registry.resolve(List.of("stats:score")),
                    false, out, Provenance.of("test", List.of()));
            assertThat(result.rowsWritten()).isEqualTo(ROWS);
        }
    }

    private static void create(Datasets datasets, String name, Path file) {
        datasets.create(DatasetName.parse("t." + name), List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(),
                Provenance.of("test", List.of()));
    }

    private static long parquetFilesUnder(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(file -> file.toString().endsWith(".parquet")).count();
        }
    }
}
