package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.testing.TestFiles;
import java.io.BufferedWriter;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only separate processes can show: a kill mid-write, and writers in two JVMs. */
class ProcessesIT {

    @TempDir
    Path dir;

    private static Process start(Path log, String mainClass, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        for (String flag : System.getProperty("granary.jvm.flags", "").split(" ")) {
            if (!flag.isBlank()) {
                command.add(flag);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void aKilledAppendCommitsNothingAndARerunCompletesIt() throws Exception {
        Path data = dir.resolve("data");
        Path warehouse = data.resolve("warehouse");
        DatasetName name = DatasetName.parse("demo.big");
        assertThat(GranaryCli.runRaw("dataset", "create", name.toString(), "--from",
                write(dir, "seed.csv", "user_id,item_id,ts,score", "0,0,2026-11-28T00:00:00Z,0.5").toString(),
                "--data-dir=" + data).code()).isZero();
        Path big = dir.resolve("big.csv");
        int rows = 3_000_000;
        try (BufferedWriter out = Files.newBufferedWriter(big)) {
            out.write("user_id,item_id,ts,score\n");
            for (int i = 1; i <= rows; i++) {
                out.write(i + "," + (i % 977) + ",2026-11-28T10:" + String.format("%02d", i % 60) + ":00Z," + (i % 1000) / 1000.0 + "\n");
            }
        }
        Path dataFiles = warehouse.resolve("demo/big/data");
        long filesBefore = TestFiles.count(dataFiles, ".parquet");

        Process append = start(dir.resolve("killed.log"), "io.granary.cli.Main",
                "dataset", "append", name.toString(), big.toString(), "--threads", "1", "--data-dir=" + data);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (TestFiles.count(dataFiles, ".parquet") == filesBefore && append.isAlive() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(append.isAlive()).as("the append is still writing when killed: " + Files.readString(dir.resolve("killed.log"))).isTrue();
        append.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(warehouse))) {
            assertThat(datasets.history(name)).as("no commit from the killed run").hasSize(1);
            assertThat(datasets.describe(DatasetRef.latest(name)).snapshot().orElseThrow().totalRows()).isEqualTo(1);
        }

        GranaryCli.Run rerun = GranaryCli.runRaw("dataset", "append", name.toString(), big.toString(), "--data-dir=" + data);
        assertThat(rerun.code()).as(rerun.toString()).isZero();
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(warehouse))) {
            assertThat(datasets.history(name)).hasSize(2);
            assertThat(datasets.describe(DatasetRef.latest(name)).snapshot().orElseThrow().totalRows()).isEqualTo(rows + 1);
        }
    }

    @Test
    void appendersInTwoProcessesBothLand() throws Exception {
        Path data = dir.resolve("data");
        Path warehouse = data.resolve("warehouse");
        assertThat(GranaryCli.runRaw("dataset", "create", "demo.shared", "--from", write(dir, "s.csv", "user_id", "0").toString(),
                "--data-dir=" + data).code()).isZero();
        int perWriter = 15;
        Process first = start(dir.resolve("w1.log"), AppendLoop.class.getName(), warehouse.toString(), "demo.shared", "1", String.valueOf(perWriter));
        Process second = start(dir.resolve("w2.log"), AppendLoop.class.getName(), warehouse.toString(), "demo.shared", "2", String.valueOf(perWriter));
        assertThat(first.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(second.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).as(Files.readString(dir.resolve("w1.log"))).isZero();
        assertThat(second.exitValue()).as(Files.readString(dir.resolve("w2.log"))).isZero();

        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(warehouse))) {
            DatasetName name = DatasetName.parse("demo.shared");
            assertThat(datasets.history(name)).hasSize(1 + 2 * perWriter);
            assertThat(datasets.head(DatasetRef.latest(name), 1000)).hasSize(1 + 2 * perWriter)
                    .extracting(r -> r.getField("user_id")).contains(1000L, 1014L, 2000L, 2014L);
        }
        assertThat(new File(warehouse.resolve("demo/shared/metadata").toString()).list((d, n) -> n.contains(".tmp"))).isEmpty();
    }
}
