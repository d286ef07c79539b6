package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `granary sample ...` through the command line. */
class SampleCliTest {

    @TempDir
    Path dir;

    GranaryCli granary;
    Path config;

    @BeforeEach
    void setUp() {
        granary = new GranaryCli(dir.resolve("data"));
        List<String> clicks = new ArrayList<>(List.of("user_id,ts,clicked"));
        for (int i = 0; i < 400; i++) {
            clicks.add((i % 40) + ",2026-11-02T" + String.format("%02d", i % 24) + ":00:00Z," + (i % 3 == 0));
        }
        ok("dataset", "create", "t.clicks", "--from", write(dir, "clicks.csv", clicks.toArray(String[]::new)).toString());
        List<String> stats = new ArrayList<>(List.of("user_id,event_ts,n"));
        for (int user = 0; user < 40; user++) {
            stats.add(user + ",2026-11-01T00:00:00Z," + user);
        }
        ok("dataset", "create", "t.stats", "--from", write(dir, "stats.csv", stats.toArray(String[]::new)).toString());
        ok("feature", "apply", write(dir, "features.yaml",
                "entities: [{name: user, join_key: user_id, value_type: INT64}]",
                "feature_views:",
                "  - {name: stats, entities: [user], ttl: 0, source: {dataset: t.stats, timestamp_field: event_ts}, features: [{name: n, dtype: INT64}]}")
                .toString());
        config = write(dir, "pipeline.yaml",
                "pipeline: clicks_samples",
                "template: standard-samples",
                "params:",
                "  labels: t.clicks",
                "  label_column: clicked",
                "  entity_keys: [user_id]",
                "  features: [stats:n]",
                "  split: {train: 0.5, test: 0.5, by: user_id}",
                "  output: t.samples");
    }

    private GranaryCli.Run ok(String... args) {
        GranaryCli.Run run = granary.run(args);
        assertThat(run.code()).as(run.toString()).isZero();
        return run;
    }

    @Test
    void planRunRerunRunsAndShow() {
        assertThat(ok("sample", "plan", config.toString()).out()).contains("pipeline clicks_samples: template standard-samples@1, 8 nodes, 6 to run")
                .containsPattern("split +split +sample +[0-9a-f]{12} +RUN +new")
                .containsPattern("profile +join_profile +extract +[0-9a-f]{12} +SKIP +nothing to do");

        GranaryCli.Run run = ok("sample", "run", config.toString());
        assertThat(run.out()).contains("succeeded").contains("wrote t.samples_train@").contains("wrote t.samples_test@");
        assertThat(ok("sql", "SELECT count(*) AS n FROM (SELECT * FROM t.samples_train UNION ALL SELECT * FROM t.samples_test)").out())
                .containsPattern("n\\s+400");

        GranaryCli.Run again = ok("sample", "run", config.toString());
        assertThat(again.out()).contains("8 nodes, 0 to run").contains("unchanged t.samples_train@");
        GranaryCli.Run runs = ok("sample", "runs");
        assertThat(runs.out()).containsPattern("clicks_samples +standard-samples@1 .* succeeded +6 +0 +2")
                .containsPattern("clicks_samples +standard-samples@1 .* succeeded +0 +0 +8");
        String firstRun = runs.out().lines().skip(1).findFirst().orElseThrow().substring(0, 8);
        assertThat(ok("sample", "show", firstRun).out()).contains("run " + firstRun).containsPattern("write +write +succeeded +in process +1 +400")
                .contains("values of stats:").containsPattern("rows +400.0");
        assertThat(ok("sample", "gc").out()).contains("dropped 0 node tables");
    }

    @Test
    void templatesAreListedShownAndAdded() {
        assertThat(ok("sample", "template", "list").out()).contains("standard-samples").contains("time-split-samples").contains("media-samples");
        assertThat(ok("sample", "template", "show", "media-samples").out()).contains("template media-samples@1")
                .containsPattern("media +dataset +yes").contains("ext = 'wav'");
        Path mine = write(dir, "mine.yaml", "name: mine", "description: just the labels", "params:",
                "  labels: {type: dataset, required: true}", "nodes:",
                "  - {id: extract, component: extract, with: {dataset: \"${params.labels}\"}}",
                "  - {id: write, component: write, with: {input: \"${nodes.extract.output}\", output: t.copy}}");
        assertThat(ok("sample", "template", "add", mine.toString()).out()).contains("added template mine version 1 (1 parameters, 2 nodes)");
        assertThat(ok("sample", "template", "add", mine.toString()).out()).contains("template mine is unchanged: version 1");
        assertThat(ok("sample", "template", "list").out()).containsPattern("mine +1 +1 +template dir +just the labels");
    }

    @Test
    void mistakesAreUserErrorsNamingTheLine() {
        Path bad = write(dir, "bad.yaml", "pipeline: bad", "template: standard-samples", "params:", "  labels: t.clicks",
                "  label_column: clickd", "  entity_keys: [user_id]", "  features: [stats:n]", "  output: t.bad");
        GranaryCli.Run run = granary.run("sample", "run", bad.toString());
        assertThat(run.code()).isEqualTo(Main.USER_ERROR);
        assertThat(run.err()).contains("label_column: unknown column 'clickd'").contains(bad + ":5 (params.label_column)");
        assertThat(granary.run("sample", "show", "nope").err()).contains("no run 'nope'");
        assertThat(granary.run("sample", "template", "show", "nope").err()).contains("unknown template 'nope'");
        assertThat(granary.run("sample", "run").code()).as("no FILE").isEqualTo(Main.USAGE);
        assertThat(granary.run("sample", "run", config.toString(), "--engine", "fast").code()).isEqualTo(Main.USAGE);
    }
}
