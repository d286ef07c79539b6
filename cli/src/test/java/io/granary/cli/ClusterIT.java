package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Granary on a real Spark standalone cluster (loopback), configured only with spark.master and
 * executor sizing, as the README says: every Spark path runs its tasks on the cluster's executors
 * and gives what a local run gives. Each command runs in a process of its own, as a user's would.
 */
class ClusterIT {

    @TempDir
    static Path dir;

    static SparkCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = SparkCluster.start(dir.resolve("cluster"));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A granary.yaml for a data dir: on the cluster, or local. */
    private static Path config(String name, boolean onCluster) {
        List<String> lines = new ArrayList<>(List.of("data_dir: " + dir.resolve(name)));
        if (onCluster) {
            lines.addAll(List.of("spark:", "  master: " + cluster.masterUrl(),
                    "  conf: {spark.executor.memory: 1g, spark.executor.cores: 1, spark.cores.max: 1}"));
        }
        return write(dir, name + ".yaml", lines.toArray(String[]::new));
    }

    /** Runs `granary ARGS --config CONFIG` in a process of its own; its output, failing the test on a non-zero exit. */
    private static String granary(Path config, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config=" + config);
        Path log = Files.createTempFile(dir, "granary", ".log");
        Process process = JavaProcess.start(log, "io.granary.cli.Main", all.toArray(String[]::new));
        assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("granary %s finished", String.join(" ", args)).isTrue();
        String output = Files.readString(log);
        assertThat(process.exitValue()).as("granary %s:%n%s", String.join(" ", args), output).isZero();
        return output;
    }

    @Test
    void everySparkPathRunsOnTheClustersExecutorsAndAgreesWithALocalRun() throws Exception {
        List<String> clicks = new ArrayList<>(List.of("user_id,item_id,ts,clicked"));
        for (int i = 0; i < 2000; i++) {
            clicks.add(i % 97 + "," + i % 13 + ",2026-11-02T" + String.format("%02d:%02d", i % 24, i % 60) + ":00Z," + (i % 5 == 0));
        }
        Path clicksFile = write(dir, "clicks.csv", clicks.toArray(String[]::new));
        Path features = write(dir, "features.yaml",
                "entities: [{name: user, join_key: user_id, value_type: INT64}]",
                "feature_views:",
                "  - {name: user_clicks, entities: [user], ttl: 0, source: {dataset: t.stats, timestamp_field: event_ts},",
                "     features: [{name: clicks, dtype: INT64}]}");
        Path pipeline = write(dir, "pipeline.yaml", "pipeline: on_cluster", "template: standard-samples", "params:",
                "  labels: t.clicks", "  label_column: clicked", "  entity_keys: [user_id]", "  features: [user_clicks:clicks]",
                "  negative_rate: 0.5", "  split: {train: 0.8, test: 0.2, by: user_id}", "  output: t.samples");
        String stats = "SELECT user_id, TIMESTAMP'2026-11-01 00:00:00' AS event_ts, count(*) AS clicks FROM t.clicks GROUP BY user_id";
        String summary = "SELECT (SELECT count(*) FROM t.clicks_spark) AS ingested, (SELECT sum(clicks) FROM t.stats) AS stat_clicks, "
                + "(SELECT count(clicks) FROM t.history) AS with_features, (SELECT count(*) FROM t.samples_train) AS train, "
                + "(SELECT count(*) FROM t.samples_test) AS test, (SELECT round(sum(weight), 1) FROM t.samples_train) AS train_weight";

        List<String> answers = new ArrayList<>();
        for (boolean onCluster : new boolean[] {true, false}) {
            Path config = config(onCluster ? "cluster-data" : "local-data", onCluster);
            granary(config, "dataset", "create", "t.clicks", "--from", clicksFile.toString());
            assertThat(granary(config, "sql", "SELECT count(*) AS n FROM t.clicks")).containsPattern("n\\s+2000");
            granary(config, "dataset", "create", "t.stats", "--query", stats);
            granary(config, "dataset", "create", "t.clicks_spark", "--from", clicksFile.toString(), "--engine", "spark");
            granary(config, "feature", "apply", features.toString());
            granary(config, "feature", "history", "--entities", "t.clicks", "--features", "user_clicks:clicks", "--timestamp-field", "ts",
                    "--out", "t.history", "--engine", "spark");
            assertThat(granary(config, "sample", "run", pipeline.toString(), "--engine", "spark")).contains("wrote t.samples_train@");
            // the answer's table, without the log lines around it
            answers.add(String.join("\n", granary(config, "sql", summary).lines().filter(line -> !line.matches("^\\d\\d:\\d\\d:\\d\\d.*")).toList()));
        }

        assertThat(answers.get(0)).as("the cluster's answers are the local run's").isEqualTo(answers.get(1)).containsPattern("ingested.*\\n2000");
        // sql, create --query, create --engine spark, feature history, the pipeline's nodes, and the summary: each ran tasks on executors
        assertThat(cluster.applicationsThatRanTasks()).hasSizeGreaterThanOrEqualTo(6);
    }
}
