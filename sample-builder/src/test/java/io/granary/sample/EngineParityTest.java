package io.granary.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.sample.component.Engine;
import io.granary.sample.run.Executor;
import io.granary.sample.run.NodeRecord;
import io.granary.sample.run.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.data.Record;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-process paths give what Spark gives: the same pipeline on each engine keeps the same rows
 * (the same hash decides sampling and splits), joins the same profile and features, and computes
 * the same columns and statistics (fitted ones up to floating-point rounding).
 */
class EngineParityTest {

    static final List<String> ROUNDED = List.of("z", "m", "weight");

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

    private RunRecord run(String output, Engine engine) throws Exception {
        Path config = fixture.ctrConfig("negative_rate: 0.4", "split: {train: 0.6, validation: 0.2, test: 0.2, by: user_id}",
                "transforms: {l: {op: log1p, column: position}, b: {op: bucketize, column: position, boundaries: [3, 6]}, "
                        + "h: {op: hash, column: item_id, buckets: 7}, z: {op: standardize, column: position}, m: {op: minmax, column: position}}");
        List<String> lines = new ArrayList<>(Files.readAllLines(config));
        lines.set(0, "pipeline: " + output + "_" + fixture.pipeline.substring(2));
        lines.replaceAll(line -> line.replace(fixture.ns + ".samples", fixture.ns + "." + output));
        Path renamed = Files.write(dir.resolve(output + ".yaml"), lines);
        return fixture.pipelines.run(renamed, Set.of(), new Executor.Options(engine, 100_000_000L, 2, Duration.ZERO), line -> { });
    }

    private List<Record> sorted(String table) {
        List<Record> rows = new ArrayList<>(fixture.rows(table));
        rows.sort(Comparator.comparing(r -> r.getField("user_id") + "/" + r.getField("item_id") + "/" + r.getField("ts")));
        return rows;
    }

    @Test
    void bothEnginesKeepSplitJoinAndComputeTheSame() throws Exception {
        RunRecord spark = run("on_spark", Engine.spark);
        RunRecord local = run("in_process", Engine.auto);

        assertThat(spark.nodes()).filteredOn(n -> !n.status().equals("skipped")).extracting(NodeRecord::engine).containsOnly("spark");
        assertThat(local.nodes()).filteredOn(n -> !n.status().equals("skipped")).extracting(NodeRecord::engine).containsOnly("in process");
        for (String split : List.of("train", "validation", "test")) {
            List<Record> expected = sorted("on_spark_" + split);
            List<Record> actual = sorted("in_process_" + split);
            assertThat(actual).as(split).hasSameSizeAs(expected).isNotEmpty();
            for (int i = 0; i < expected.size(); i++) {
                for (var field : expected.get(i).struct().fields()) {
                    Object want = expected.get(i).getField(field.name());
                    Object got = actual.get(i).getField(field.name());
                    if (ROUNDED.contains(field.name()) && want != null) {
                        assertThat((Double) got).as("%s of row %d", field.name(), i).isCloseTo((Double) want, Offset.offset(1e-9));
                    } else {
                        assertThat(got).as("%s of row %d of %s", field.name(), i, split).isEqualTo(want);
                    }
                }
            }
        }
        Map<String, Object> sparkStats = spark.node("stats").orElseThrow().values();
        Map<String, Object> localStats = local.node("stats").orElseThrow().values();
        assertThat(localStats.keySet()).isEqualTo(sparkStats.keySet());
        sparkStats.forEach((name, value) -> {
            if (value == null) {
                assertThat(localStats.get(name)).as(name).isNull();
            } else {
                assertThat(((Number) localStats.get(name)).doubleValue()).as(name)
                        .isCloseTo(((Number) value).doubleValue(), Offset.offset(1e-9 * Math.max(1, Math.abs(((Number) value).doubleValue()))));
            }
        });
    }

    @Test
    void engineLocalRunsWhatCanRunInProcessAndRefusesTheRestBeforeAnythingRuns() throws Exception {
        RunRecord local = fixture.pipelines.run(fixture.ctrConfig(), Set.of(),
                new Executor.Options(Engine.local, 100_000_000L, 2, Duration.ZERO), line -> { });
        assertThat(local.nodes()).filteredOn(n -> n.status().equals("succeeded")).extracting(NodeRecord::engine).containsOnly("in process");

        Path filtered = fixture.ctrConfig("filter: \"position > 2\"", "transforms: {p: \"position * 2\"}");
        int runs = fixture.pipelines.history().runs(java.util.Optional.of(fixture.pipeline)).size();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> fixture.pipelines.run(filtered, Set.of(),
                        new Executor.Options(Engine.local, 100_000_000L, 2, Duration.ZERO), line -> { }))
                .isInstanceOf(io.granary.common.GranaryException.class)
                .hasMessageContaining("--engine local: these nodes cannot run in this process: extract (its filter is Spark SQL), "
                        + "transform (its Spark SQL expressions need Spark");
        assertThat(fixture.pipelines.history().runs(java.util.Optional.of(fixture.pipeline))).as("nothing ran").hasSize(runs);
    }
}
