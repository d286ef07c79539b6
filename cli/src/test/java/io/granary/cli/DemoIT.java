package io.granary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.LineageNode;
import io.granary.dataset.catalog.CatalogSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `granary demo` runs end to end, and what it shows is true. Twice: it must be rerunnable. */
class DemoIT {

    @TempDir
    Path dir;

    @Test
    void theDemoRunsAndItsStatisticsReadTheRightSnapshots() throws Exception {
        Path data = dir.resolve("data");
        for (int run = 0; run < 2; run++) {
            GranaryCli.Run demo = GranaryCli.runRaw("demo", "--clicks-per-day", "2000", "--data-dir=" + data);
            assertThat(demo.code()).as(demo.toString()).isZero();
            assertThat(demo.out()).contains("$ granary dataset create demo.clicks").contains("$ granary dataset lineage demo.user_stats")
                    .contains("Demo finished");
            assertThat(demo.out()).containsPattern("day1 +2000").containsPattern("latest +4000");
            assertThat(demo.out()).contains("$ granary feature apply").contains("wrote demo.training")
                    .contains("gRPC feast.serving.ServingService/GetOnlineFeatures")
                    .containsPattern("clicks +\\d+ +PRESENT")
                    .contains("\"statuses\":[\"PRESENT\",\"PRESENT\"]")
                    .contains("$ granary feature verify-online").contains("the online store serves what training saw");
            assertThat(demo.out()).contains("packed 3,000 samples (6,000 files").contains("ok: 5 shards, 6,000 members")
                    .contains("3,000 samples already packed, skipped").contains("packed 300 samples (600 files")
                    .containsPattern("sample spk\\d\\d/utt\\d{4}: 2 files");
            assertThat(demo.out()).contains("$ granary sample run")
                    .containsPattern("ctr_samples \\(standard-samples@1\\): 8 nodes, 8 to run")
                    .containsPattern("ctr_samples \\(standard-samples@1\\): 8 nodes, 0 to run")
                    .containsPattern("ctr_samples \\(standard-samples@1\\): 8 nodes, 4 to run")
                    .containsPattern("extract +incr +extract \\(only the rows appended to demo.clicks after @")
                    .contains("wrote demo.ctr_samples_train@").contains("wrote demo.speech_samples_train@");
            assertThat(demo.out()).contains("$ granary cache stage demo.speech").containsPattern("mounted demo.speech \\(demo.speech@\\d+\\) at ")
                    .containsPattern("13 files, [0-9.]+ MiB; copied 0 files, 0 B; 13 already cached")
                    .containsPattern("the follower staged the new snapshot [0-9.]+ s after the pack began")
                    .containsPattern("demo.speech@\\d+ +shards +13 .* 100% .* +mount " + data.resolve("demo-mnt/speech"));
            assertThat(data.resolve("demo-mnt/speech/manifest.json")).isRegularFile();
            assertThat(demo.out()).containsPattern("granary_cache_hits_total [1-9]").contains("granary_cache_used_bytes")
                    .containsPattern("kubectl label node gpu-node-1 cache.granary.io/demo-ctr-samples-train-[0-9a-f]{8}=\\d+")
                    .contains("kind: \"Pod\"").containsPattern("- \"demo.speech@\\d+\"");
            assertThat(data.resolve("cache/daemon.json")).doesNotExist();
            assertThat(demo.out()).containsPattern("rank 0 of 2: [0-9,]+ rows in \\d+ batches").containsPattern("rank 1 of 2: [0-9,]+ rows")
                    .containsPattern("worker a: [1-9][0-9,]* rows").containsPattern("worker b: [0-9,]+ rows")
                    .containsPattern("HTTP 200, application/vnd.apache.arrow.stream, [0-9,]+ bytes: [1-9][0-9,]* rows")
                    .contains("granary_stream_rows_sent_total{mode=\"dynamic\"}");
            // day-1 clicks get no daily statistics: they are known only at the end of day 1
            assertThat(demo.out()).containsPattern("\\d{4}-\\d{2}-\\d{2} +2000 +0 +0 +2000");
            if (run == 1) {
                assertThat(demo.out()).contains("dropping the previous run's demo datasets");
            }
        }
        for (String pipeline : new String[] {"ctr.yaml", "speech.yaml"}) {
            assertThat(Files.readString(data.resolve("demo-input/pipelines/" + pipeline)))
                    .as("examples/pipelines/%s is the file the demo runs", pipeline)
                    .isEqualTo(Files.readString(Path.of("../examples/pipelines/" + pipeline)));
        }
        assertThat(Files.readString(data.resolve("demo-input/features.yaml")))
                .as("examples/features.yaml is the file the demo applies")
                .isEqualTo(Files.readString(Path.of("../examples/features.yaml")));
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(data.resolve("warehouse")))) {
            long day2 = datasets.resolve(DatasetRef.parse("demo.clicks@day2")).snapshot().orElseThrow().snapshotId();
            LineageNode stats = datasets.lineage(DatasetRef.latest(DatasetName.parse("demo.user_stats")));
            LineageNode latestCommit = stats.upstream().get(0);
            assertThat(latestCommit.upstream()).extracting(LineageNode::name)
                    .as("day 2's statistics read the day-2 snapshot of demo.clicks").containsExactly("demo.clicks@" + day2);
            // two days, then a third appended before the incremental sample run
            assertThat(datasets.describe(DatasetRef.latest(DatasetName.parse("demo.clicks"))).snapshot().orElseThrow().totalRows())
                    .isEqualTo(6000);
        }
    }
}
