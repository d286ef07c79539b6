package io.granary.dataset;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.testing.TinyDisk;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: the warehouse on a 3 MiB tmpfs. Needs permission to mount (root, as on the
 * CI machine); elsewhere the test is skipped and says why.
 */
class FullDiskTest {

    @TempDir
    Path dir;

    Path tiny;
    TinyDisk disk;

    @BeforeEach
    void mountTinyDisk() throws Exception {
        disk = TinyDisk.mount(dir.resolve("tiny"), "3m");
        tiny = disk.path();
    }

    @AfterEach
    void unmount() throws Exception {
        if (disk != null) {
            disk.close();
        }
    }

    private Path randomCsv(String name, int rows) throws Exception {
        Path file = dir.resolve(name);
        Random random = new Random(1);
        try (BufferedWriter out = Files.newBufferedWriter(file)) {
            out.write("id,noise\n");
            for (int i = 0; i < rows; i++) {
                out.write(i + "," + Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong()) + "\n");
            }
        }
        return file;
    }

    @Test
    void aWriteThatFillsTheDiskFailsClearlyAndCommitsNothing() throws Exception {
        Path warehouse = tiny.resolve("warehouse");
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(warehouse))) {
            DatasetName name = DatasetName.parse("demo.noise");
            datasets.create(name, List.of(randomCsv("small.csv", 100)), Optional.empty(), List.of(), WriteOptions.defaults(),
                    Provenance.of("test", List.of()));
            long usedBefore = used();
            Path data = warehouse.resolve("demo/noise/data");
            List<Path> filesBefore = dataFiles(data);
            Path big = randomCsv("big.csv", 200_000);

            assertThatThrownBy(() -> datasets.append(DatasetRef.latest(name), List.of(big), WriteOptions.defaults(), Provenance.of("test", List.of())))
                    .isInstanceOf(GranaryException.class)
                    .hasMessageContaining("cannot write the data files of demo.noise: No space left on device")
                    .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("free space at").contains("nothing was committed"));

            assertThat(datasets.history(name)).hasSize(1);
            assertThat(datasets.head(DatasetRef.latest(name), 1000)).hasSize(100);
            assertThat(dataFiles(data)).as("the partial data files are deleted").isEqualTo(filesBefore);
            // Their space comes back once the failed writers' streams are closed (by the GC here; a
            // CLI process simply exits).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (used() > usedBefore + 64 * 1024 && System.nanoTime() < deadline) {
                System.gc();
                Thread.onSpinWait();
            }
            assertThat(used()).isLessThanOrEqualTo(usedBefore + 64 * 1024);
        }
    }

    private long used() throws java.io.IOException {
        return Files.getFileStore(tiny).getTotalSpace() - Files.getFileStore(tiny).getUsableSpace();
    }

    private static List<Path> dataFiles(Path data) throws java.io.IOException {
        try (var files = Files.walk(data)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void anExportThatFillsTheDiskLeavesNoPartialFile() throws Exception {
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(dir.resolve("warehouse")))) {
            DatasetName name = DatasetName.parse("demo.noise");
            datasets.create(name, List.of(randomCsv("big.csv", 200_000)), Optional.empty(), List.of(), WriteOptions.defaults(),
                    Provenance.of("test", List.of()));
            for (String format : List.of("csv", "parquet")) {
                Path target = tiny.resolve("export." + format);
                assertThatThrownBy(() -> Export.toFile(datasets, DatasetRef.latest(name), target))
                        .isInstanceOf(GranaryException.class)
                        .hasMessageContaining("No space left on device");
                assertThat(target).doesNotExist();
                try (var left = Files.list(tiny)) {
                    assertThat(left.toList()).as("no temporary file is left behind (" + format + ")").isEmpty();
                }
            }
        }
    }
}
