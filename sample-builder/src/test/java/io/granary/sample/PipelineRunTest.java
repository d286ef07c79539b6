package io.granary.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.dataset.DatasetRef;
import io.granary.dataset.LineageNode;
import io.granary.sample.plan.Action;
import io.granary.sample.plan.Plan;
import io.granary.sample.plan.PlannedNode;
import io.granary.sample.run.NodeRecord;
import io.granary.sample.run.RunRecord;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** standard-samples end to end on hand-checked data: outputs, skips, reruns of what changed, force. */
class PipelineRunTest {

    @TempDir
    Path dir;

    SampleFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new SampleFixture(dir);
        fixture.ctrData(200, 5);
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    private static Map<String, Action> actions(Plan plan) {
        Map<String, Action> actions = new HashMap<>();
        plan.nodes().forEach(node -> actions.put(node.id(), node.action()));
        return actions;
    }

    @Test
    void aRunWritesOneDatasetPerSplitWithProfileFeaturesAndWeightsThenARerunSkipsEverything() {
        Path config = fixture.ctrConfig("negative_rate: 0.5", "split: {train: 0.8, validation: 0.1, test: 0.1, by: user_id}");

        RunRecord run = fixture.run(config);

        assertThat(run.status()).isEqualTo(RunRecord.SUCCEEDED);
        assertThat(run.nodes()).extracting(NodeRecord::status).containsOnly("succeeded", "skipped");
        List<Record> train = fixture.rows("samples_train");
        List<Record> validation = fixture.rows("samples_validation");
        List<Record> test = fixture.rows("samples_test");
        List<Record> all = new ArrayList<>(train);
        all.addAll(validation);
        all.addAll(test);
        // 2,000 labels, about a quarter positive: every positive kept, half the negatives, each weighing 2
        long positives = all.stream().filter(r -> (Boolean) r.getField("clicked")).count();
        assertThat(positives).isBetween(430L, 570L);
        long negatives = all.size() - positives;
        assertThat(negatives).isBetween(600L, 900L);
        assertThat(all).allSatisfy(r -> assertThat(r.getField("weight")).isEqualTo((Boolean) r.getField("clicked") ? 1.0 : 2.0));
        // no user in two splits; the split column itself is not written
        Set<Object> trainUsers = train.stream().map(r -> r.getField("user_id")).collect(Collectors.toSet());
        assertThat(validation.stream().map(r -> r.getField("user_id"))).doesNotContainAnyElementsOf(trainUsers);
        assertThat(test.stream().map(r -> r.getField("user_id"))).doesNotContainAnyElementsOf(trainUsers);
        assertThat((double) train.size() / all.size()).isBetween(0.7, 0.9);
        assertThat(fixture.datasets.load(fixture.name("samples_train")).schema().findField("split")).isNull();
        // the profile as of each click: users up to 100 signed up at noon of day 1, the others never
        for (Record row : all) {
            long user = (Long) row.getField("user_id");
            OffsetDateTime ts = (OffsetDateTime) row.getField("ts");
            boolean signedUp = user <= 100 && !ts.isBefore(OffsetDateTime.parse("2026-11-01T12:00:00Z"));
            assertThat(row.getField("country")).as("user %d at %s", user, ts).isEqualTo(signedUp ? (user % 2 == 0 ? "de" : "us") : null);
            // user_daily is known from the end of day 1, for 2 days
            assertThat(row.getField("clicks")).isEqualTo(ts.isBefore(OffsetDateTime.parse("2026-11-02T00:00:00Z")) ? null : user * 10);
        }
        // lineage: the output's commit reads the node tables, which read the labels' snapshot
        LineageNode lineage = fixture.datasets.lineage(DatasetRef.latest(fixture.name("samples_train")));
        assertThat(lineage.toString()).contains(fixture.ns + ".labels@").contains(fixture.ns + ".user_stats@").contains(fixture.ns + ".users@");

        Plan again = fixture.plan(config);
        assertThat(again.toRun()).isZero();
        assertThat(again.nodes()).extracting(PlannedNode::reason).allSatisfy(reason -> assertThat(reason)
                .satisfiesAnyOf(r -> assertThat(r).startsWith("unchanged: output committed by run " + run.runId().substring(0, 8)),
                        r -> assertThat(r).startsWith("nothing to do")));
        RunRecord rerun = fixture.run(config);
        assertThat(rerun.nodes()).extracting(NodeRecord::status).containsOnly("skipped");
        assertThat(fixture.rows("samples_train")).hasSameSizeAs(train);
    }

    @Test
    void changingOnlyTheSplitRerunsSplitAndWhatIsBelowIt() {
        fixture.run(fixture.ctrConfig("split: {train: 0.8, validation: 0.1, test: 0.1}"));

        Plan plan = fixture.plan(fixture.ctrConfig("split: {train: 0.7, validation: 0.2, test: 0.1}"));

        assertThat(actions(plan)).containsEntry("extract", Action.SKIP).containsEntry("profile", Action.SKIP)
                .containsEntry("features", Action.SKIP).containsEntry("sample", Action.SKIP)
                .containsEntry("split", Action.RUN).containsEntry("stats", Action.RUN).containsEntry("write", Action.RUN);
        assertThat(plan.node("split").orElseThrow().reason()).contains("ratios").contains("train=0.8").contains("train=0.7");
        assertThat(plan.node("stats").orElseThrow().reason()).contains("upstream node");
    }

    @Test
    void forceRerunsANodeAndEverythingBelowIt() {
        Path config = fixture.ctrConfig();
        RunRecord first = fixture.run(config);

        Plan plan = fixture.plan(config, "sample");

        assertThat(actions(plan)).containsEntry("features", Action.SKIP).containsEntry("sample", Action.RUN)
                .containsEntry("split", Action.RUN).containsEntry("write", Action.RUN);
        assertThat(plan.node("sample").orElseThrow().reason()).isEqualTo("--force");
        assertThat(plan.node("split").orElseThrow().reason()).isEqualTo("below a forced node");
        RunRecord forced = fixture.run(config, "sample");
        assertThat(forced.node("sample").orElseThrow().status()).isEqualTo("succeeded");
        assertThat(forced.node("features").orElseThrow().status()).isEqualTo("skipped");
        // the same fingerprints: the same rows
        assertThat(forced.node("write").orElseThrow().rows()).isEqualTo(first.node("write").orElseThrow().rows());
    }

    @Test
    void theSameSeedGivesTheSameSamplesAndSplits() {
        RunRecord first = fixture.run(fixture.ctrConfig("negative_rate: 0.3"));
        Set<String> firstTrain = keys(fixture.rows("samples_train"));

        fixture.run(fixture.ctrConfig("negative_rate: 0.3"), "sample");

        assertThat(keys(fixture.rows("samples_train"))).isEqualTo(firstTrain);
        assertThat(first.status()).isEqualTo(RunRecord.SUCCEEDED);
    }

    private static Set<String> keys(List<Record> rows) {
        Set<String> keys = new HashSet<>();
        rows.forEach(r -> keys.add(r.getField("user_id") + "/" + r.getField("item_id") + "/" + r.getField("ts")));
        return keys;
    }
}
