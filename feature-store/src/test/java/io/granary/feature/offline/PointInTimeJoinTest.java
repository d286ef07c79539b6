package io.granary.feature.offline;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.LineageNode;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.WriteResult;
import io.granary.dataset.testing.SharedSpark;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import java.util.ArrayList;
import org.junit.jupiter.api.io.TempDir;

/** Hand-computed point-in-time answers, on the edges where feature stores leak or lose rows. */
class PointInTimeJoinTest {

    @TempDir
    Path dir;

    SparkSession spark;
    Datasets datasets;
    String ns;
    RegistryState registry;
    WriteResult userStatsFirst;

    @BeforeEach
    void setUp() {
        spark = SharedSpark.session();
        datasets = Datasets.open(SharedSpark.catalog());
        ns = "pit_" + UUID.randomUUID().toString().substring(0, 8);
        userStatsFirst = create("user_stats", "user_stats.csv", "user_id,event_ts,created_ts,clicks",
                "1,2026-11-28T10:00:00Z,2026-11-28T10:05:00Z,1",
                "1,2026-11-28T11:00:00Z,2026-11-28T11:05:00Z,2",
                "1,2026-11-28T11:00:00Z,2026-11-28T11:30:00Z,3",
                "1,2026-11-28T13:00:00Z,2026-11-28T13:05:00Z,4",
                "2,2026-11-28T09:00:00Z,2026-11-28T09:05:00Z,20");
        create("item_stats", "item_stats.csv", "item_id,event_ts,ctr",
                "a,2026-11-28T08:00:00Z,0.1",
                "a,2026-11-28T12:00:00Z,0.2");
        // around the entity rows' time window (09:00 to 12:00:00.000001) and a 1h ttl: the edges of what can match
        create("user_window", "user_window.csv", "user_id,event_ts,clicks",
                "1,2026-11-28T07:59:59.999999Z,100",
                "1,2026-11-28T08:00:00Z,101",
                "1,2026-11-28T12:00:00.000001Z,102",
                "1,2026-11-28T12:00:00.000002Z,103");
        create("entities", "entities.csv", "row,user_id,item_id,ts",
                "1,1,a,2026-11-28T11:00:00Z",
                "2,1,a,2026-11-28T12:00:00Z",
                "3,1,a,2026-11-28T12:00:00.000001Z",
                "4,1,b,2026-11-28T10:30:00Z",
                "5,2,a,2026-11-28T09:30:00Z",
                "6,3,a,2026-11-28T12:00:00Z",
                "7,1,a,2026-11-28T09:00:00Z");
        Path file = write(dir, "features.yaml",
                "entities:",
                "  - {name: user, join_key: user_id, value_type: INT64}",
                "  - {name: item, join_key: item_id, value_type: STRING}",
                "feature_views:",
                "  - name: user_stats",
                "    entities: [user]",
                "    ttl: 1h",
                "    source: {dataset: " + ns + ".user_stats, timestamp_field: event_ts, created_timestamp_field: created_ts}",
                "    features: [{name: clicks, dtype: INT64}]",
                "  - name: item_stats",
                "    entities: [item]",
                "    ttl: 0",
                "    source: {dataset: " + ns + ".item_stats, timestamp_field: event_ts}",
                "    features: [{name: ctr, dtype: DOUBLE}]",
                "  - name: user_window",
                "    entities: [user]",
                "    ttl: 1h",
                "    source: {dataset: " + ns + ".user_window, timestamp_field: event_ts}",
                "    features: [{name: clicks, dtype: INT64}]",
                "  - name: user_forever",
                "    entities: [user]",
                "    ttl: 0",
                "    source: {dataset: " + ns + ".user_stats, timestamp_field: event_ts, created_timestamp_field: created_ts}",
                "    features: [{name: clicks, dtype: INT64}]");
        Definitions definitions = Definitions.parse(file);
        Registry store = new Registry(dir.resolve("registry"));
        DefinitionChecker.check(definitions, store.load(), datasets);
        registry = store.apply(definitions);
    }

    @AfterEach
    void tearDown() throws Exception {
        datasets.close();
    }

    private WriteResult create(String name, String file, String... lines) {
        return datasets.create(DatasetName.parse(ns + "." + name), List.of(write(dir, file, lines)), Optional.empty(), List.of(),
                WriteOptions.defaults(), Provenance.of("test", List.of()));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void rowsAtTheEdgesOfTheEntityRowsTimeWindowStillMatch(boolean local) {
        // the in-process engine reads a view only within [first entity row - ttl, last entity row]
        Map<Long, String> answers = joined(local, registry.resolve(List.of("user_window:clicks")), false, "clicks");

        assertThat(answers).containsEntry(7L, "101")   // 09:00: the row exactly 1h before, the window's first instant
                .containsEntry(4L, "null")             // 10:30: that row is 2.5h old
                .containsEntry(1L, "null")
                .containsEntry(2L, "null")
                .containsEntry(3L, "102")              // 12:00:00.000001: the row at the window's last instant
                .containsEntry(5L, "null")
                .containsEntry(6L, "null")
                .hasSize(7);
    }

    @Test
    void theEntityRowsTimeWindowComesFromTheirFilesColumnBounds() {
        var table = datasets.load(DatasetName.parse(ns + ".entities"));
        Optional<long[]> window = LocalPointInTimeJoin.timeBounds(table, table.currentSnapshot().snapshotId(), table.schema().findField("ts"));

        assertThat(window).isPresent();
        assertThat(window.get()).containsExactly(java.time.Instant.parse("2026-11-28T09:00:00Z").getEpochSecond() * 1_000_000,
                java.time.Instant.parse("2026-11-28T12:00:00Z").getEpochSecond() * 1_000_000 + 1);
    }

    /** row number -> the named columns joined by '|', from the Spark engine or the in-process one. */
    private Map<Long, String> joined(boolean local, List<FeatureRef> refs, boolean fullNames, String... columns) {
        Map<Long, String> answers = new HashMap<>();
        if (!local) {
            List<Row> rows = new PointInTimeJoin(spark, registry).join(spark.table("granary." + ns + ".entities"), "ts", refs, fullNames)
                    .collectAsList();
            for (Row row : rows) {
                List<String> values = new ArrayList<>();
                for (String column : columns) {
                    values.add(String.valueOf(row.get(row.fieldIndex(column))));
                }
                answers.put(row.getLong(row.fieldIndex("row")), String.join("|", values));
            }
            return answers;
        }
        DatasetName out = DatasetName.parse(ns + ".local_" + UUID.randomUUID().toString().substring(0, 6));
        new LocalPointInTimeJoin(datasets, registry).history(DatasetRef.parse(ns + ".entities"), Optional.of("ts"), refs, fullNames, out,
                Provenance.of("test", List.of()));
        try (CloseableIterable<Record> rows = IcebergGenerics.read(datasets.load(out)).build()) {
            for (Record row : rows) {
                List<String> values = new ArrayList<>();
                for (String column : columns) {
                    values.add(String.valueOf(row.getField(column)));
                }
                answers.put((Long) row.getField("row"), String.join("|", values));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return answers;
    }

    private Map<Long, String> joined(boolean local) {
        return joined(local, List.of(new FeatureRef("user_stats", "clicks"), new FeatureRef("item_stats", "ctr")), false, "clicks", "ctr");
    }

    @ParameterizedTest(name = "in-process engine: {0}")
    @ValueSource(booleans = {false, true})
    void eachEntityRowGetsTheLatestRowAtOrBeforeItWithinTtl(boolean local) {
        Map<Long, String> answers = joined(local);

        assertThat(answers).containsEntry(1L, "3|0.1")      // exactly equal event time counts; the tie goes to the later created row
                .containsEntry(2L, "3|0.2")                 // exactly ttl old: still in range
                .containsEntry(3L, "null|0.2")              // 1 µs past the ttl: out of range
                .containsEntry(4L, "1|null")                // an item with no rows gives null
                .containsEntry(5L, "20|0.1")
                .containsEntry(6L, "null|0.2")              // a user with no rows gives null
                .containsEntry(7L, "null|0.1")              // never a row from the future
                .hasSize(7);
    }

    @ParameterizedTest(name = "in-process engine: {0}")
    @ValueSource(booleans = {false, true})
    void aLateArrivingRowIsUsedWhereItsEventTimeFits(boolean local) {
        datasets.append(DatasetRef.parse(ns + ".user_stats"), List.of(write(dir, "late.csv", "user_id,event_ts,created_ts,clicks",
                "2,2026-11-28T09:15:00Z,2026-11-29T00:00:00Z,25")), WriteOptions.defaults(), Provenance.of("test", List.of()));

        Map<Long, String> answers = joined(local);

        assertThat(answers).containsEntry(5L, "25|0.1").containsEntry(1L, "3|0.1");
    }

    @ParameterizedTest(name = "in-process engine: {0}")
    @ValueSource(booleans = {false, true})
    void viewsKeyedAlikeShareAPassAndKeepTheirOwnTtl(boolean local) {
        Map<Long, String> answers = joined(local,
                List.of(new FeatureRef("user_stats", "clicks"), new FeatureRef("user_forever", "clicks"), new FeatureRef("item_stats", "ctr")),
                true, "user_stats__clicks", "user_forever__clicks", "item_stats__ctr");
        assertThat(answers).containsEntry(3L, "null|3|0.2")   // 1 µs past user_stats' 1h ttl; user_forever has none
                .containsEntry(1L, "3|3|0.1")
                .containsEntry(7L, "null|null|0.1")
                .hasSize(7);
    }

    @Test
    void theInProcessEngineWritesADatasetWithLineageToWhatItRead() {
        DatasetName out = DatasetName.parse(ns + ".training_local");
        LocalPointInTimeJoin engine = new LocalPointInTimeJoin(datasets, registry);
        List<FeatureRef> refs = registry.resolve(List.of("user_stats:clicks", "item_stats:ctr"));
        assertThat(engine.unsupported(DatasetRef.parse(ns + ".entities"), refs)).isEmpty();
        WriteResult result = engine.history(DatasetRef.parse(ns + ".entities"), Optional.empty(), refs, true, out, Provenance.of("feature history", List.of()));

        assertThat(result.rowsWritten()).isEqualTo(7);
        assertThat(datasets.load(out).schema().findField("user_stats__clicks").type().toString()).isEqualTo("long");
        assertThat(datasets.load(out).properties()).containsEntry("write.parquet.compression-level", "1")
                .containsEntry("write.parquet.compression-codec", "zstd");
        LineageNode commit = datasets.lineage(DatasetRef.latest(out)).upstream().get(0);
        assertThat(commit.upstream()).extracting(LineageNode::name).contains(
                ns + ".user_stats@" + userStatsFirst.snapshotId(),
                ns + ".entities@" + datasets.resolve(DatasetRef.parse(ns + ".entities")).snapshot().orElseThrow().snapshotId());
        assertThatThrownBy(() -> engine.history(DatasetRef.parse(ns + ".entities"), Optional.empty(), refs, true, out,
                Provenance.of("feature history", List.of()))).isInstanceOf(GranaryException.class).hasMessageContaining("already exists");
        assertThatThrownBy(() -> engine.history(DatasetRef.parse(ns + ".item_stats"), Optional.of("event_ts"),
                List.of(new FeatureRef("user_stats", "clicks")), false, DatasetName.parse(ns + ".x"), Provenance.of("t", List.of())))
                .isInstanceOf(GranaryException.class).hasMessageContaining("no column 'user_id', which feature view user_stats is keyed by");
        assertThatThrownBy(() -> engine.history(DatasetRef.parse(ns + ".entities"), Optional.of("row"),
                List.of(new FeatureRef("user_stats", "clicks")), false, DatasetName.parse(ns + ".x"), Provenance.of("t", List.of())))
                .hasMessageContaining("'row' is long, not a timestamp");
    }

    @Test
    void historyWritesADatasetWithLineageToWhatItRead() {
        DatasetName out = DatasetName.parse(ns + ".training");
        WriteResult result = new PointInTimeJoin(spark, registry).history(datasets, DatasetRef.parse(ns + ".entities"), Optional.empty(),
                registry.resolve(List.of("user_stats:clicks", "item_stats:ctr")), true, out, Provenance.of("feature history", List.of()));

        assertThat(result.rowsWritten()).isEqualTo(7);
        assertThat(datasets.load(out).schema().findField("user_stats__clicks")).isNotNull();
        // training sets, from either engine, are zstd at level 1
        assertThat(datasets.load(out).properties()).containsEntry("write.parquet.compression-level", "1")
                .containsEntry("write.parquet.compression-codec", "zstd");
        LineageNode commit = datasets.lineage(DatasetRef.latest(out)).upstream().get(0);
        assertThat(commit.upstream()).extracting(LineageNode::name).contains(
                ns + ".user_stats@" + userStatsFirst.snapshotId(),
                ns + ".entities@" + datasets.resolve(DatasetRef.parse(ns + ".entities")).snapshot().orElseThrow().snapshotId());

        assertThatThrownBy(() -> new PointInTimeJoin(spark, registry).history(datasets, DatasetRef.parse(ns + ".entities"), Optional.empty(),
                registry.resolve(List.of("user_stats:clicks")), false, out, Provenance.of("feature history", List.of())))
                .isInstanceOf(GranaryException.class).hasMessageContaining("already exists");
    }

    @Test
    void entityRowsMissingWhatTheViewsNeedAreRefused() {
        assertThatThrownBy(() -> new PointInTimeJoin(spark, registry).join(spark.table("granary." + ns + ".item_stats"), "event_ts",
                List.of(new FeatureRef("user_stats", "clicks")), false).collectAsList())
                .isInstanceOf(GranaryException.class).hasMessageContaining("no column 'user_id', which feature view user_stats is keyed by");
        assertThatThrownBy(() -> new PointInTimeJoin(spark, registry).join(spark.table("granary." + ns + ".entities"), "row",
                List.of(new FeatureRef("user_stats", "clicks")), false))
                .hasMessageContaining("'row' is bigint, not a timestamp");
        assertThatThrownBy(() -> PointInTimeJoin.timestampColumn(spark.table("granary." + ns + ".user_stats").schema(), Optional.empty()))
                .hasMessageContaining("timestamps: event_ts, created_ts");
    }

    @Test
    void aDamagedDataFileIsNamedByTheInProcessEngine() throws Exception {
        Table table = datasets.load(DatasetName.parse(ns + ".user_stats"));
        String location = table.currentSnapshot().addedDataFiles(table.io()).iterator().next().location();
        Path file = Path.of(java.net.URI.create(location.startsWith("file:") ? location : "file://" + location));
        byte[] bytes = Files.readAllBytes(file);
        for (int i = 8; i < bytes.length - 8; i++) {
            bytes[i] ^= 0x5a;
        }
        Files.write(file, bytes);
        LocalPointInTimeJoin engine = new LocalPointInTimeJoin(datasets, registry);
        List<FeatureRef> refs = registry.resolve(List.of("user_stats:clicks"));

        // Hadoop's checksum file catches it first; without one, reading the pages does
        for (boolean withChecksum : new boolean[] {true, false}) {
            if (!withChecksum) {
                Files.delete(file.resolveSibling("." + file.getFileName() + ".crc"));
            }
            assertThatThrownBy(() -> engine.history(DatasetRef.parse(ns + ".entities"), Optional.of("ts"), refs, false,
                    DatasetName.parse(ns + ".damaged"), Provenance.of("feature history", List.of())))
                    .as("with its checksum file: %s", withChecksum)
                    .isInstanceOf(GranaryException.class)
                    .hasMessageContaining("cannot read " + ns + ".user_stats: ")
                    .hasMessageContaining(file.getFileName().toString())
                    .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("damaged or truncated"));
            assertThat(datasets.exists(DatasetName.parse(ns + ".damaged"))).isFalse();
        }
    }

    @Test
    void aJoinTooBigForThisProcesssMemoryIsLeftToSpark() {
        List<FeatureRef> refs = registry.resolve(List.of("user_stats:clicks", "item_stats:ctr"));
        assertThat(new LocalPointInTimeJoin(datasets, registry).unsupported(DatasetRef.parse(ns + ".entities"), refs)).isEmpty();

        LocalPointInTimeJoin small = new LocalPointInTimeJoin(datasets, registry, 1024);
        assertThat(small.unsupported(DatasetRef.parse(ns + ".entities"), refs)).get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .startsWith("it would hold about ").contains("in memory, more than the 1.0 KiB this process can spare");
        assertThatThrownBy(() -> small.history(DatasetRef.parse(ns + ".entities"), Optional.of("ts"), refs, false,
                DatasetName.parse(ns + ".too_big"), Provenance.of("feature history", List.of())))
                .isInstanceOf(GranaryException.class)
                .hasMessageStartingWith("the in-process engine cannot run this join: it would hold about ")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("--engine spark"));
    }

    @Test
    void aSourceColumnDroppedSinceTheViewWasAppliedIsNamed() {
        datasets.load(DatasetName.parse(ns + ".user_stats")).updateSchema().deleteColumn("created_ts").commit();

        assertThatThrownBy(() -> new LocalPointInTimeJoin(datasets, registry).history(DatasetRef.parse(ns + ".entities"), Optional.of("ts"),
                registry.resolve(List.of("user_stats:clicks")), false, DatasetName.parse(ns + ".dropped"),
                Provenance.of("feature history", List.of())))
                .isInstanceOf(GranaryException.class)
                .hasMessage("feature view user_stats's source " + ns + ".user_stats has no column 'created_ts' any more")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("granary feature apply"));
    }
}
