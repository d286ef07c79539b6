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
        return JavaProcess.start(log, mainClass, args);
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

    @Test
    void aSampleRunKilledMidwayRerunRedoesOnlyWhatDidNotCommit() throws Exception {
        Path data = dir.resolve("data");
        List<String> labels = new ArrayList<>(List.of("user_id,ts,clicked"));
        for (int i = 0; i < 1000; i++) {
            labels.add(i % 50 + ",2026-11-02T10:00:00Z," + (i % 4 == 0));
        }
        assertThat(GranaryCli.runRaw("dataset", "create", "t.labels", "--from", write(dir, "labels.csv", labels.toArray(String[]::new)).toString(),
                "--data-dir=" + data).code()).isZero();
        Path template = write(dir, "waiting.yaml", "name: waiting", "params:", "  labels: {type: dataset, required: true}",
                "  file: {type: string, required: true}", "nodes:",
                "  - {id: extract, component: extract, with: {dataset: \"${params.labels}\"}}",
                "  - {id: wait, component: wait_for_file_gone, with: {input: \"${nodes.extract.output}\", file: \"${params.file}\"}}",
                "  - {id: write, component: write, with: {input: \"${nodes.wait.output}\", output: t.out}}");
        assertThat(GranaryCli.runRaw("sample", "template", "add", template.toString(), "--data-dir=" + data).code()).isZero();
        Path gate = write(dir, "gate", "wait");
        Path config = write(dir, "pipeline.yaml", "pipeline: killed", "template: waiting", "params:", "  labels: t.labels",
                "  file: " + gate);

        Process run = start(dir.resolve("run.log"), "io.granary.cli.Main", "sample", "run", config.toString(), "--data-dir=" + data);
        Path runs = data.resolve("samples/runs/killed");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!waiting(runs) && run.isAlive() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(run.isAlive()).as("the run waits in its second node: " + Files.readString(dir.resolve("run.log"))).isTrue();
        run.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        Files.delete(gate);

        GranaryCli.Run listed = GranaryCli.runRaw("sample", "runs", "killed", "--data-dir=" + data);
        assertThat(listed.out()).contains("interrupted");
        GranaryCli.Run rerun = GranaryCli.runRaw("sample", "run", config.toString(), "--data-dir=" + data);
        assertThat(rerun.code()).as(rerun.toString()).isZero();
        assertThat(rerun.out()).containsPattern("extract +skip +unchanged: output committed by run").contains("wrote t.out@");
        assertThat(GranaryCli.runRaw("sql", "SELECT count(*) AS n FROM t.out", "--data-dir=" + data).out()).containsPattern("n\\s+1000");
    }

    /** Whether the run's record shows extract committed and the waiting node started. */
    private static boolean waiting(Path runs) {
        try (var files = Files.list(runs)) {
            for (Path file : files.toList()) {
                String record = Files.readString(file);
                if (record.contains("\"status\" : \"running\"") && record.matches("(?s).*\"id\" : \"wait\".*?\"status\" : \"running\".*")) {
                    return true;
                }
            }
        } catch (java.io.IOException e) {
            return false; // not there yet, or being renamed into place
        }
        return false;
    }

    @Test
    void anAsyncStageRunsInTheBackgroundAndCacheJobsShowsHowItEnded() throws Exception {
        Path data = dir.resolve("data");
        assertThat(GranaryCli.runRaw("dataset", "create", "demo.users", "--from",
                write(dir, "users.csv", "user_id,country", "1,FR", "2,DE").toString(), "--data-dir=" + data).code()).isZero();
        Path log = dir.resolve("async.log");
        Process async = start(log, Main.class.getName(), "cache", "stage", "demo.users", "--async", "--data-dir=" + data);
        assertThat(async.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String started = Files.readString(log);
        assertThat(async.exitValue()).as(started).isZero();
        assertThat(started).containsPattern("job [0-9a-f]{8}: staging demo.users \\(demo.users@\\d+\\) in the background, pid \\d+");

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        GranaryCli.Run jobs = GranaryCli.runRaw("cache", "jobs", "--data-dir=" + data);
        while (!jobs.out().contains(" done ") && System.nanoTime() < deadline) {
            jobs = GranaryCli.runRaw("cache", "jobs", "--data-dir=" + data);
        }
        assertThat(jobs.out()).as(jobs.toString()).containsPattern("demo.users +done +100% \\(2 of 2 files\\)").contains("copied 2 files");
        assertThat(GranaryCli.runRaw("cache", "status", "--data-dir=" + data).out()).containsPattern("demo.users@\\d+ +table +2 .* 100%");
        assertThat(GranaryCli.runRaw("cache", "stage", "demo.nope", "--async", "--data-dir=" + data).err()).contains("unknown dataset demo.nope");
    }
}
