package io.granary.sample;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.sample.run.RunRecord;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built-in components on hand-checked data: split, sample, transform and stats. */
class ComponentsTest {

    @TempDir
    static Path dir;

    static SampleFixture fixture;
    static int pipelines;

    /** 10,000 rows: 500 users, times an hour apart, a label true one time in five, x = id % 7 (null every 50th). */
    @BeforeAll
    static void data() {
        fixture = new SampleFixture(dir);
        List<String> rows = new ArrayList<>(List.of("id,user_id,ts,label,x"));
        for (int id = 0; id < 10_000; id++) {
            rows.add(id + "," + (id % 500) + "," + OffsetDateTime.parse("2026-01-01T00:00:00Z").plusHours(id) + "," + (id % 5 == 0) + ","
                    + (id % 50 == 49 ? "" : String.valueOf(id % 7)));
        }
        fixture.csv("rows", rows.toArray(String[]::new));
    }

    @AfterAll
    static void close() throws Exception {
        fixture.close();
    }

    /** Runs a one-off template of extract, then {@code nodes} (YAML lines) reading ${nodes.extract.output}; returns the run. */
    private static RunRecord runNodes(String output, String... nodes) {
        String name = "t" + (++pipelines);
        List<String> lines = new ArrayList<>(List.of("name: " + name, "params:", "  rows: {type: dataset, required: true}", "nodes:",
                "  - {id: extract, component: extract, with: {dataset: \"${params.rows}\"}}"));
        lines.addAll(List.of(nodes));
        fixture.pipelines.templates().add(write(dir, name + ".yaml", lines.toArray(String[]::new)));
        Path config = write(dir, name + "-config.yaml", "pipeline: p_" + name + "_" + fixture.ns, "template: " + name, "retries: {count: 0}",
                "params:", "  rows: " + fixture.ns + ".rows");
        return fixture.run(config);
    }

    private static Map<String, List<Record>> splits(String output, String... names) {
        Map<String, List<Record>> splits = new HashMap<>();
        for (String name : names) {
            splits.put(name, fixture.rows(output + "_" + name));
        }
        return splits;
    }

    private static Set<Object> ids(List<Record> rows, String column) {
        Set<Object> ids = new HashSet<>();
        rows.forEach(row -> ids.add(row.getField(column)));
        return ids;
    }

    @Test
    void aRandomSplitKeepsItsRatiosAndIsTheSameForTheSameSeed() {
        String split = "  - {id: split, component: split, with: {input: \"${nodes.extract.output}\", ratios: {train: 0.7, validation: 0.2, test: 0.1}, seed: %d}}";
        String write = "  - {id: write, component: write, with: {input: \"${nodes.split.output}\", output: %s, splits: [train, validation, test]}}";
        runNodes("a", String.format(split, 1), String.format(write, fixture.ns + ".a"));
        runNodes("b", String.format(split, 1), String.format(write, fixture.ns + ".b"));
        runNodes("c", String.format(split, 2), String.format(write, fixture.ns + ".c"));
        Map<String, List<Record>> a = splits("a", "train", "validation", "test");

        assertThat(a.get("train").size() + a.get("validation").size() + a.get("test").size()).isEqualTo(10_000);
        // binomial: within 4 standard deviations of 7,000 / 2,000 / 1,000
        assertThat(a.get("train").size()).isBetween(6_817, 7_183);
        assertThat(a.get("validation").size()).isBetween(1_840, 2_160);
        assertThat(a.get("test").size()).isBetween(880, 1_120);
        Map<String, List<Record>> b = splits("b", "train", "validation", "test");
        assertThat(ids(b.get("train"), "id")).isEqualTo(ids(a.get("train"), "id"));
        assertThat(ids(b.get("test"), "id")).isEqualTo(ids(a.get("test"), "id"));
        assertThat(ids(splits("c", "train").get("train"), "id")).as("another seed").isNotEqualTo(ids(a.get("train"), "id"));
    }

    @Test
    void aSplitByAColumnNeverPutsOneValueInTwoSplits() {
        runNodes("byuser",
                "  - {id: split, component: split, with: {input: \"${nodes.extract.output}\", ratios: {train: 0.8, test: 0.2, by: user_id}}}",
                "  - {id: write, component: write, with: {input: \"${nodes.split.output}\", output: " + fixture.ns + ".byuser, splits: [train, test]}}");
        Map<String, List<Record>> split = splits("byuser", "train", "test");

        Set<Object> trainUsers = ids(split.get("train"), "user_id");
        assertThat(ids(split.get("test"), "user_id")).doesNotContainAnyElementsOf(trainUsers);
        assertThat(trainUsers.size() + ids(split.get("test"), "user_id").size()).isEqualTo(500);
        assertThat(split.get("test").size()).isBetween(1_400, 2_600); // 20 rows a user, about 100 users
    }

    @Test
    void aSplitByTimeLeaksNothingAcrossItsBoundaries() {
        RunRecord run = runNodes("bytime",
                "  - {id: split, component: split, with: {input: \"${nodes.extract.output}\", ratios: {train: 0.8, validation: 0.1, test: 0.1}, "
                        + "time_column: ts}}",
                "  - {id: write, component: write, with: {input: \"${nodes.split.output}\", output: " + fixture.ns + ".bytime, "
                        + "splits: [train, validation, test]}}");
        Map<String, List<Record>> split = splits("bytime", "train", "validation", "test");

        OffsetDateTime lastTrain = split.get("train").stream().map(r -> (OffsetDateTime) r.getField("ts")).max(OffsetDateTime::compareTo).orElseThrow();
        OffsetDateTime firstValidation = split.get("validation").stream().map(r -> (OffsetDateTime) r.getField("ts")).min(OffsetDateTime::compareTo).orElseThrow();
        OffsetDateTime lastValidation = split.get("validation").stream().map(r -> (OffsetDateTime) r.getField("ts")).max(OffsetDateTime::compareTo).orElseThrow();
        OffsetDateTime firstTest = split.get("test").stream().map(r -> (OffsetDateTime) r.getField("ts")).min(OffsetDateTime::compareTo).orElseThrow();
        assertThat(lastTrain).isBefore(firstValidation);
        assertThat(lastValidation).isBefore(firstTest);
        assertThat(split.get("train")).hasSize(8_000);
        assertThat(split.get("test")).hasSize(1_000);
        assertThat(run.node("split").orElseThrow().values()).containsEntry("boundary_test", firstTest.toInstant().toString());
    }

    @Test
    void negativeDownSamplingKeepsEveryPositiveAndWeighsKeptNegativesByTheInverseRate() {
        runNodes("sampled",
                "  - {id: sample, component: sample, with: {input: \"${nodes.extract.output}\", label_column: label, negative_rate: 0.25, seed: 3}}",
                "  - {id: write, component: write, with: {input: \"${nodes.sample.output}\", output: " + fixture.ns + ".sampled}}");
        List<Record> rows = fixture.rows("sampled");

        List<Record> positives = rows.stream().filter(r -> (Boolean) r.getField("label")).toList();
        List<Record> negatives = rows.stream().filter(r -> !(Boolean) r.getField("label")).toList();
        assertThat(positives).hasSize(2_000).allSatisfy(r -> assertThat(r.getField("weight")).isEqualTo(1.0));
        assertThat(negatives.size()).isBetween(1_862, 2_138); // 8,000 x 0.25, within 4 standard deviations
        assertThat(negatives).allSatisfy(r -> assertThat(r.getField("weight")).isEqualTo(4.0));
        double weighted = negatives.stream().mapToDouble(r -> (Double) r.getField("weight")).sum();
        assertThat(weighted).as("the weights restore the negatives' count").isBetween(7_448.0, 8_552.0);
    }

    @Test
    void standardizeAndMinmaxAreFittedOnTheTrainSplitOnly() {
        RunRecord run = runNodes("scaled",
                "  - {id: split, component: split, with: {input: \"${nodes.extract.output}\", ratios: {train: 0.5, test: 0.5}, time_column: ts}}",
                "  - {id: transform, component: transform, with: {input: \"${nodes.split.output}\", columns: {z: {op: standardize, column: id}, "
                        + "m: {op: minmax, column: id}, l: \"log1p(x)\", b: {op: bucketize, column: x, boundaries: [2, 5]}, h: {op: hash, column: user_id, buckets: 10}}}}",
                "  - {id: write, component: write, with: {input: \"${nodes.transform.output}\", output: " + fixture.ns + ".scaled, splits: [train, test]}}");
        Map<String, List<Record>> split = splits("scaled", "train", "test");

        // train holds ids 0..4999: mean 2499.5, population std sqrt((5000^2 - 1) / 12), min 0, max 4999
        Map<String, Object> values = run.node("transform").orElseThrow().values();
        assertThat((Double) values.get("z_mean")).isEqualTo(2499.5);
        assertThat((Double) values.get("z_std")).isCloseTo(Math.sqrt((5000.0 * 5000.0 - 1) / 12), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(values).containsEntry("m_min", 0.0).containsEntry("m_max", 4999.0);
        double trainMean = split.get("train").stream().mapToDouble(r -> (Double) r.getField("z")).average().orElseThrow();
        double testMean = split.get("test").stream().mapToDouble(r -> (Double) r.getField("z")).average().orElseThrow();
        assertThat(trainMean).isCloseTo(0.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(testMean).as("the test rows are scaled with train's statistics, not their own").isGreaterThan(1.5);
        Record last = split.get("test").stream().filter(r -> r.getField("id").equals(9_999L)).findFirst().orElseThrow();
        assertThat((Double) last.getField("m")).isCloseTo(9_999.0 / 4_999.0, org.assertj.core.data.Offset.offset(1e-12));
        for (Record row : split.get("train")) {
            Object x = row.getField("x");
            assertThat(row.getField("b")).isEqualTo(x == null ? null : (Long) x >= 5 ? 2 : (Long) x >= 2 ? 1 : 0);
            assertThat((Long) row.getField("h")).isBetween(0L, 9L);
        }
    }

    @Test
    void statisticsPerSplitAndABoundThatFailsTheNode() {
        RunRecord run = runNodes("described",
                "  - {id: split, component: split, with: {input: \"${nodes.extract.output}\", ratios: {train: 0.5, test: 0.5}, time_column: ts}}",
                "  - {id: stats, component: stats, with: {input: \"${nodes.split.output}\", label_column: label, columns: [x], bounds: {rows: {min: 100}}}}");

        Map<String, Object> values = run.node("stats").orElseThrow().values();
        assertThat(values).containsEntry("rows", 10_000.0).containsEntry("rows__train", 5_000.0).containsEntry("label_rate", 0.2)
                .containsEntry("null_rate_x", 0.02).containsEntry("min_x", 0.0).containsEntry("max_x", 6.0);

        assertThatThrownBy(() -> runNodes("bounded",
                "  - {id: stats, component: stats, with: {input: \"${nodes.extract.output}\", label_column: label, bounds: {label_rate: {min: 0.5}}}}"))
                .isInstanceOf(GranaryException.class)
                .hasMessageContaining("node stats failed: node stats, bounds: label_rate is 0.2, outside its bounds {min=0.5}");
    }
}
