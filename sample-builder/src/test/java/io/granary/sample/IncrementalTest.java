package io.granary.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.dataset.testing.SharedSpark;
import io.granary.sample.plan.Action;
import io.granary.sample.plan.Plan;
import io.granary.sample.run.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A new day of labels costs a day: row-local nodes take only the appended rows, and the result equals a full recompute. */
class IncrementalTest {

    @TempDir
    Path dir;

    SampleFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new SampleFixture(dir);
        fixture.ctrData(100, 5);
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    private void appendDay(int day) {
        List<String> labels = new ArrayList<>(List.of("user_id,item_id,ts,clicked,position"));
        for (int user = 1; user <= 100; user++) {
            labels.add(user + ",700,2026-11-0" + day + "T10:00:00Z," + (user % 3 == 0) + "," + (user % 10 + 1));
        }
        fixture.csv("labels", labels.toArray(String[]::new));
    }

    private static Map<String, Action> actions(Plan plan) {
        Map<String, Action> actions = new TreeMap<>();
        plan.nodes().forEach(node -> actions.put(node.id(), node.action()));
        return actions;
    }

    private List<String> rows(String table) {
        List<String> rows = new ArrayList<>();
        for (Record row : fixture.rows(table)) {
            rows.add(row.toString());
        }
        rows.sort(String::compareTo);
        return rows;
    }

    @Test
    void appendedLabelsAreProcessedAloneAndEqualAFullRecompute() throws Exception {
        String[] params = {"negative_rate: 0.5", "split: {train: 0.8, test: 0.2, by: user_id}", "transforms: {position_log: \"log1p(position)\"}"};
        Path config = fixture.ctrConfig(params);
        fixture.run(config);
        appendDay(3);

        Plan plan = fixture.plan(config);

        assertThat(actions(plan)).containsEntry("extract", Action.INCREMENTAL).containsEntry("features", Action.INCREMENTAL)
                .containsEntry("sample", Action.INCREMENTAL).containsEntry("split", Action.INCREMENTAL)
                .containsEntry("transform", Action.INCREMENTAL).containsEntry("write", Action.INCREMENTAL)
                .containsEntry("stats", Action.INCREMENTAL);
        assertThat(plan.node("stats").orElseThrow().reason()).startsWith("only the rows node transform added, merged into its output of run");
        assertThat(plan.node("extract").orElseThrow().reason()).startsWith("only the rows appended to " + fixture.ns + ".labels after @");
        assertThat(plan.node("features").orElseThrow().reason()).startsWith("only the rows node profile added");
        RunRecord incremental = fixture.run(config);
        assertThat(incremental.node("extract").orElseThrow().rows()).as("only the new day's rows").isEqualTo(100);
        assertThat(incremental.node("stats").orElseThrow().values()).containsEntry("rows", (double) rows("samples_train").size()
                + rows("samples_test").size());

        // the same config from scratch, as another pipeline: the same rows
        List<String> lines = new ArrayList<>(Files.readAllLines(config));
        lines.set(0, "pipeline: full_" + fixture.pipeline.substring(2));
        lines.replaceAll(line -> line.replace(fixture.ns + ".samples", fixture.ns + ".full"));
        Path full = Files.write(dir.resolve("full.yaml"), lines);
        RunRecord recomputed = fixture.run(full);
        assertThat(recomputed.nodes()).noneMatch(node -> node.action().equals("INCREMENTAL"));
        assertThat(rows("samples_train")).isEqualTo(rows("full_train"));
        assertThat(rows("samples_test")).isEqualTo(rows("full_test"));
        // the statistics merged from the new rows equal those computed over all of them
        Map<String, Object> merged = incremental.node("stats").orElseThrow().values();
        Map<String, Object> whole = recomputed.node("stats").orElseThrow().values();
        assertThat(merged.keySet()).isEqualTo(whole.keySet());
        for (String name : whole.keySet()) {
            if (whole.get(name) == null) {
                assertThat(merged.get(name)).as(name).isNull();
            } else {
                assertThat(((Number) merged.get(name)).doubleValue()).as(name)
                        .isCloseTo(((Number) whole.get(name)).doubleValue(), org.assertj.core.data.Offset.offset(1e-9));
            }
        }

        // and a second day on top of the first: three parts
        appendDay(4);
        RunRecord again = fixture.run(config);
        assertThat(again.node("split").orElseThrow().outputs()).hasSize(3);
        assertThat(fixture.plan(config).toRun()).isZero();
    }

    @Test
    void whatIsNotRowLocalOrChangedByMoreThanAppendsIsRecomputedWholeAndThePlanSaysWhy() {
        Path fitted = fixture.ctrConfig("transforms: {z: {op: standardize, column: position}}");
        fixture.run(fitted);
        appendDay(3);

        Plan plan = fixture.plan(fitted);

        assertThat(actions(plan)).containsEntry("split", Action.INCREMENTAL).containsEntry("transform", Action.RUN)
                .containsEntry("write", Action.RUN);
        assertThat(plan.node("transform").orElseThrow().reason()).contains("recomputed whole: transform is not row-local with these arguments");
        fixture.run(fitted);

        SharedSpark.session().sql("DELETE FROM granary." + fixture.ns + ".labels WHERE user_id = 1");
        Plan afterDelete = fixture.plan(fitted);
        assertThat(actions(afterDelete)).containsEntry("extract", Action.RUN);
        assertThat(afterDelete.node("extract").orElseThrow().reason()).contains("changed by more than appends").contains("is overwrite");

        // new feature rows: the features node reads another snapshot of the view's source, so it reruns whole
        fixture.csv("user_stats", "user_id,event_ts,clicks", "1,2026-11-03T00:00:00Z,99");
        Plan afterFeatures = fixture.plan(fitted);
        assertThat(afterFeatures.node("features").orElseThrow().reason()).contains("what it reads changed: view:user_daily " + fixture.ns
                + ".user_stats@");
    }

}
