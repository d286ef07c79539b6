package io.granary.dataset.spark;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.LineageNode;
import io.granary.dataset.Provenance;
import io.granary.dataset.ValueText;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.WriteResult;
import io.granary.dataset.testing.SharedSpark;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.iceberg.data.Record;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stock Spark + Iceberg reads what Granary writes, history included, and the other way round. */
class SparkInteropTest {

    @TempDir
    Path dir;

    SparkSession spark;
    Datasets datasets;

    @BeforeEach
    void setUp() {
        spark = SharedSpark.session();
        datasets = Datasets.open(SharedSpark.catalog());
    }

    @AfterEach
    void tearDown() throws Exception {
        datasets.close();
    }

    private static List<String> rowsOf(List<Row> rows) {
        return rows.stream().map(r -> r.getLong(0) + "|" + r.getString(1) + "|" + r.get(2)).sorted().toList();
    }

    private static List<String> rowsOfRecords(List<Record> records) {
        return records.stream()
                .map(r -> r.getField("user_id") + "|" + r.getField("item") + "|" + ValueText.text(r.getField("ts")).replace("T", " ").replace("Z", ""))
                .sorted().toList();
    }

    @Test
    void sparkSqlVersionAsOfReadsTheRowsGranaryHeadShows() {
        DatasetName name = DatasetName.parse("interop.clicks");
        Path day1 = write(dir, "day1.csv", "user_id,item,ts", "1,apple,2026-11-27T10:00:00Z", "2,pear,2026-11-27T11:00:00Z");
        WriteResult first = datasets.create(name, List.of(day1), Optional.empty(), List.of(), WriteOptions.defaults(), Provenance.of("test", List.of()));
        datasets.tag(name, "v1", OptionalLong.empty(), false);
        Path day2 = write(dir, "day2.csv", "user_id,item,ts", "3,plum,2026-11-28T09:30:00Z");
        WriteResult second = datasets.append(DatasetRef.latest(name), List.of(day2), WriteOptions.defaults(), Provenance.of("test", List.of()));

        for (WriteResult version : List.of(first, second)) {
            List<Row> fromSpark = spark.sql("SELECT user_id, item, CAST(ts AS STRING) FROM granary.interop.clicks VERSION AS OF "
                    + version.snapshotId()).collectAsList();
            List<Record> fromGranary = datasets.head(DatasetRef.at(name, version.snapshotId()), 100);
            assertThat(rowsOf(fromSpark)).isEqualTo(rowsOfRecords(fromGranary)).isNotEmpty();
        }
        assertThat(rowsOf(spark.sql("SELECT user_id, item, CAST(ts AS STRING) FROM interop.clicks VERSION AS OF 'v1'").collectAsList()))
                .containsExactly("1|apple|2026-11-27 10:00:00", "2|pear|2026-11-27 11:00:00");
        assertThat(spark.sql("SELECT count(*) FROM granary.interop.clicks.snapshots").first().getLong(0)).isEqualTo(2);
        Row summary = spark.sql("SELECT summary['granary.command'] FROM granary.interop.clicks.snapshots ORDER BY committed_at DESC LIMIT 1").first();
        assertThat(summary.getString(0)).isEqualTo("test");
    }

    @Test
    void sparkWritesLandInGranaryHistory() {
        DatasetName name = DatasetName.parse("interop.from_spark");
        Path file = write(dir, "d.csv", "user_id,item,ts", "1,apple,2026-11-27T10:00:00Z");
        datasets.create(name, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), Provenance.of("test", List.of()));

        spark.sql("INSERT INTO interop.from_spark VALUES (5, 'fig', TIMESTAMP '2026-11-28 00:00:00')");

        assertThat(datasets.head(DatasetRef.latest(name), 10)).extracting(r -> r.getField("user_id")).containsExactlyInAnyOrder(1L, 5L);
        assertThat(datasets.history(name)).hasSize(2);
    }

    @Test
    void aQueryMadeDatasetRecordsTheSnapshotsItRead() {
        DatasetName clicks = DatasetName.parse("lineage.clicks");
        Path file = write(dir, "c.csv", "user_id,item,ts", "1,apple,2026-11-27T10:00:00Z", "1,pear,2026-11-27T10:05:00Z", "2,fig,2026-11-27T11:00:00Z");
        WriteResult input = datasets.create(clicks, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), Provenance.of("test", List.of()));
        SparkQueries queries = new SparkQueries(spark, datasets);
        DatasetName stats = DatasetName.parse("lineage.user_stats");

        WriteResult made = queries.create(stats, "SELECT user_id, count(*) AS clicks FROM lineage.clicks GROUP BY user_id",
                List.of("bucket(4, user_id)"), Provenance.of("dataset create --query", List.of()));

        assertThat(made.rowsWritten()).isEqualTo(2);
        assertThat(datasets.head(DatasetRef.latest(stats), 10)).extracting(r -> r.getField("user_id") + "=" + r.getField("clicks"))
                .containsExactlyInAnyOrder("1=2", "2=1");
        assertThat(datasets.load(stats).spec().fields()).hasSize(1);
        LineageNode graph = datasets.lineage(DatasetRef.latest(stats));
        LineageNode commit = graph.upstream().get(0);
        assertThat(commit.name()).endsWith("dataset create --query");
        assertThat(commit.upstream()).extracting(LineageNode::name).containsExactly("lineage.clicks@" + input.snapshotId());
        assertThat(commit.upstream().get(0).upstream().get(0).upstream()).extracting(LineageNode::kind).containsExactly(LineageNode.Kind.FILE);

        assertThatThrownBy(() -> queries.create(DatasetName.parse("lineage.bad"), "SELECT nope FROM lineage.clicks", List.of(), Provenance.of("t", List.of())))
                .isInstanceOf(GranaryException.class).hasMessageContaining("cannot run the query");
        assertThat(datasets.exists(DatasetName.parse("lineage.bad"))).isFalse();
    }

    @Test
    void theSparkEngineMatchesColumnsByNameAndRecordsItsInputs() throws Exception {
        DatasetName name = DatasetName.parse("engine.clicks");
        Path first = write(dir, "first.csv", "user_id,item,ts", "1,apple,2026-11-27T10:00:00Z");
        datasets.create(name, List.of(first), Optional.empty(), List.of(), WriteOptions.defaults(), Provenance.of("test", List.of()));
        SparkIngest ingest = new SparkIngest(spark, datasets);

        Path reordered = write(dir, "reordered.csv", "ts,user_id", "2026-11-28T10:00:00Z,2", "2026-11-28T11:00:00Z,3");
        WriteResult csv = ingest.append(DatasetRef.latest(name), List.of(reordered.toString()), Optional.empty(), Provenance.of("dataset append", List.of()));
        assertThat(csv.rowsWritten()).isEqualTo(2);
        List<Record> rows = datasets.head(DatasetRef.latest(name), 10);
        Record three = rows.stream().filter(r -> r.getField("user_id").equals(3L)).findFirst().orElseThrow();
        assertThat(three.getField("item")).isNull();
        assertThat(ValueText.text(three.getField("ts"))).isEqualTo("2026-11-28T11:00:00Z");
        assertThat(datasets.history(name).get(0).provenance().orElseThrow().inputs()).containsExactly(reordered.toUri().toString());

        Path json = write(dir, "more.jsonl", "{\"user_id\": 4, \"item\": \"fig\"}");
        ingest.append(DatasetRef.latest(name), List.of(json.toString()), Optional.empty(), Provenance.of("dataset append", List.of()));
        assertThat(datasets.head(DatasetRef.latest(name), 10)).hasSize(4);

        Path extra = write(dir, "extra.jsonl", "{\"user_id\": 5, \"colour\": \"red\"}");
        assertThatThrownBy(() -> ingest.append(DatasetRef.latest(name), List.of(extra.toString()), Optional.empty(), Provenance.of("t", List.of())))
                .isInstanceOf(GranaryException.class).hasMessageContaining("column 'colour'").hasMessageContaining("is not in the dataset");
        Path unknownCsv = write(dir, "unknown.csv", "user_id,colour", "6,blue");
        assertThatThrownBy(() -> ingest.append(DatasetRef.latest(name), List.of(unknownCsv.toString()), Optional.empty(), Provenance.of("t", List.of())))
                .isInstanceOf(GranaryException.class).hasMessageContaining("column 'colour'");
        assertThatThrownBy(() -> ingest.append(DatasetRef.latest(name), List.of(dir.resolve("absent.csv").toString()), Optional.empty(), Provenance.of("t", List.of())))
                .isInstanceOf(GranaryException.class).hasMessageContaining("not found");
        assertThat(datasets.history(name)).hasSize(3);

        datasets.branch(name, "trial", java.util.OptionalLong.empty());
        WriteResult onBranch = ingest.append(DatasetRef.parse("engine.clicks@trial"), List.of(json.toString()), Optional.empty(), Provenance.of("t", List.of()));
        assertThat(onBranch.branch()).isEqualTo("trial");
        assertThat(datasets.head(DatasetRef.parse("engine.clicks@trial"), 10)).hasSize(5);
        assertThat(datasets.head(DatasetRef.latest(name), 10)).hasSize(4);

        ingest.overwrite(DatasetRef.latest(name), List.of(json.toString()), false, Optional.empty(), Provenance.of("t", List.of()));
        assertThat(datasets.head(DatasetRef.latest(name), 10)).extracting(r -> r.getField("user_id")).containsExactly(4L);
    }

    @Test
    void theSparkEngineCreatesFromInferredFilesAndDirectories() throws Exception {
        Path folder = dir.resolve("parts");
        write(folder, "a.csv", "id,score", "1,0.5");
        write(folder, "b.csv", "id,score", "2,1.5");
        SparkIngest ingest = new SparkIngest(spark, datasets);

        WriteResult created = ingest.create(DatasetName.parse("engine.scores"), List.of(folder.toString()), Optional.of(SparkIngest.Format.CSV),
                Optional.empty(), List.of(), Provenance.of("dataset create", List.of()));

        assertThat(created.rowsWritten()).isEqualTo(2);
        assertThat(datasets.load(DatasetName.parse("engine.scores")).schema().findType("score")).isEqualTo(org.apache.iceberg.types.Types.DoubleType.get());
        assertThatThrownBy(() -> ingest.create(DatasetName.parse("engine.bad"), List.of(folder.toString()), Optional.empty(), Optional.empty(),
                List.of(), Provenance.of("t", List.of()))).hasMessageContaining("cannot tell the format");
    }
}
