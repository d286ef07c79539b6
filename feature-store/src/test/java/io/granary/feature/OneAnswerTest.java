package io.granary.feature;

import static io.granary.dataset.testing.TestFiles.write;
import static io.granary.dataset.testing.TestTables.file;
import static io.granary.dataset.testing.TestTables.row;
import static org.assertj.core.api.Assertions.assertThat;

import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.testing.SharedSpark;
import io.granary.dataset.testing.TestTables;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.offline.LocalPointInTimeJoin;
import io.granary.feature.offline.PointInTimeJoin;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.OnlineRow;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One answer: of a view's rows of one key tied on event time (and created time), the last written
 * wins (the later commit, then the later file of a commit, then the later row of a file), in the
 * in-process engine, the Spark engine (on every run), full and incremental materialization.
 */
class OneAnswerTest {

    static final String T = "2026-11-28T10:00:00Z";
    static final OffsetDateTime TS = OffsetDateTime.parse(T);
    static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
    static final Instant END = Instant.parse("2026-12-01T00:00:00Z");

    @TempDir
    Path dir;

    SparkSession spark;
    Datasets datasets;
    Registry registry;
    String ns;

    @BeforeEach
    void setUp() {
        spark = SharedSpark.session();
        datasets = Datasets.open(SharedSpark.catalog());
        registry = new Registry(dir.resolve("registry"));
        ns = "one_" + UUID.randomUUID().toString().substring(0, 8);
        List<String> entities = new ArrayList<>(List.of("user_id,ts"));
        for (int user = 1; user <= 9; user++) {
            entities.add(user + ",2026-11-28T11:00:00Z");
        }
        create("entities", entities.toArray(String[]::new));
    }

    @AfterEach
    void tearDown() throws Exception {
        datasets.close();
    }

    private void create(String name, String... csv) {
        TestTables.csv(datasets, dir, DatasetName.parse(ns + "." + name), csv);
    }

    private void append(String name, String... csv) {
        TestTables.csv(datasets, dir, DatasetName.parse(ns + "." + name), csv);
    }

    /** Registers view {@code name} over dataset ns.name, keyed by user, with feature v. */
    private RegistryState view(String name, boolean created) {
        Path yaml = write(dir, "features-" + System.nanoTime() + ".yaml",
                "entities:",
                "  - {name: user, join_key: user_id, value_type: INT64}",
                "feature_views:",
                "  - name: " + name,
                "    entities: [user]",
                "    ttl: 0",
                "    source: {dataset: " + ns + "." + name + ", timestamp_field: event_ts"
                        + (created ? ", created_timestamp_field: created_ts}" : "}"),
                "    features: [{name: v, dtype: INT64}]");
        Definitions definitions = Definitions.parse(yaml);
        DefinitionChecker.check(definitions, registry.load(), datasets);
        return registry.apply(definitions);
    }

    /** user -> v, from the in-process engine. */
    private Map<Long, Long> local(RegistryState state, String view) {
        DatasetName out = DatasetName.parse(ns + ".local_" + UUID.randomUUID().toString().substring(0, 6));
        new LocalPointInTimeJoin(datasets, state).history(DatasetRef.parse(ns + ".entities"), Optional.of("ts"),
                List.of(new FeatureRef(view, "v")), false, out, Provenance.of("test", List.of()));
        Map<Long, Long> answers = new TreeMap<>();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(datasets.load(out)).build()) {
            rows.forEach(row -> {
                if (row.getField("v") != null) {
                    answers.put((Long) row.getField("user_id"), (Long) row.getField("v"));
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return answers;
    }

    /** user -> v, from the Spark engine. */
    private Map<Long, Long> spark(RegistryState state, String view) {
        Map<Long, Long> answers = new TreeMap<>();
        for (Row row : new PointInTimeJoin(spark, state).join(spark.table("granary." + ns + ".entities"), "ts",
                List.of(new FeatureRef(view, "v")), false).collectAsList()) {
            if (!row.isNullAt(row.fieldIndex("v"))) {
                answers.put(row.getLong(row.fieldIndex("user_id")), row.getLong(row.fieldIndex("v")));
            }
        }
        return answers;
    }

    /** user -> v, from the online store after a full materialization (or an incremental one). */
    private Map<Long, Long> online(RegistryState state, String view, boolean incremental) {
        try (RocksDbOnlineStore store = RocksDbOnlineStore.openWriter(dir.resolve("online"))) {
            Materializer materializer = new Materializer(datasets, state, store);
            if (incremental) {
                materializer.materializeIncremental(List.of(view), END);
            } else {
                materializer.materialize(List.of(view), START, END);
            }
            return stored(store, view);
        }
    }

    private static Map<Long, Long> stored(RocksDbOnlineStore store, String view) {
        Map<Long, Long> answers = new TreeMap<>();
        for (long user = 1; user <= 9; user++) {
            Optional<OnlineRow> row = store.read(view, List.of(EntityKeys.encode(List.of(user)))).get(0);
            if (row.isPresent()) {
                answers.put(user, row.get().values().get(0).getInt64Val());
            }
        }
        return answers;
    }

    @Test
    void tiesAcrossCommitsAndInsideFilesGoToTheLastWrittenRowOnEveryPath() {
        // user 1: 10, then 20 in a later commit; user 2: 30 then 40 in one file; user 3: 50, then 60 and 70 in a later file
        create("scores", "user_id,event_ts,v", "1," + T + ",10", "2," + T + ",30", "2," + T + ",40", "3," + T + ",50");
        RegistryState state = view("scores", false);
        assertThat(online(state, "scores", true)).containsExactly(Map.entry(1L, 10L), Map.entry(2L, 40L), Map.entry(3L, 50L));
        append("scores", "user_id,event_ts,v", "1," + T + ",20", "3," + T + ",60", "3," + T + ",70");
        Map<Long, Long> expected = Map.of(1L, 20L, 2L, 40L, 3L, 70L);

        assertThat(local(state, "scores")).isEqualTo(expected);
        for (int run = 0; run < 3; run++) {
            assertThat(spark(state, "scores")).as("Spark run %d", run).isEqualTo(expected);
        }
        assertThat(online(state, "scores", true)).as("incremental").isEqualTo(expected);
        assertThat(online(state, "scores", false)).as("full, after the incremental runs").isEqualTo(expected);
    }

    @Test
    void aFullMaterializationFromScratchAgreesToo() {
        create("scores", "user_id,event_ts,v", "1," + T + ",10", "2," + T + ",30", "2," + T + ",40", "3," + T + ",50");
        append("scores", "user_id,event_ts,v", "1," + T + ",20", "3," + T + ",60", "3," + T + ",70");
        RegistryState state = view("scores", false);

        assertThat(online(state, "scores", false)).isEqualTo(Map.of(1L, 20L, 2L, 40L, 3L, 70L));
    }

    @Test
    void theCreatedTimeComesBeforeTheWriteOrderAndEqualCreatedTimesFallToIt() {
        String early = "2026-11-28T10:05:00Z";
        String late = "2026-11-28T10:30:00Z";
        // user 1: equal created times, the later commit wins; user 2: the later created time wins though written first
        create("made", "user_id,event_ts,created_ts,v", "1," + T + "," + early + ",10", "2," + T + "," + late + ",30");
        append("made", "user_id,event_ts,created_ts,v", "1," + T + "," + early + ",20", "2," + T + "," + early + ",40");
        RegistryState state = view("made", true);
        Map<Long, Long> expected = Map.of(1L, 20L, 2L, 30L);

        assertThat(local(state, "made")).isEqualTo(expected);
        assertThat(spark(state, "made")).isEqualTo(expected);
        assertThat(online(state, "made", false)).isEqualTo(expected);
    }

    @Test
    void tiesAcrossFilesOfOneCommitGoToTheFileTheCommitListedLast() {
        create("files", "user_id,event_ts,v", "9," + T + ",0");
        // one commit of three files: user 4's rows in all three, user 5's in the first and the last
        TestTables.appendFiles(datasets, DatasetName.parse(ns + ".files"), List.of(
                file(row(4L, TS, 1L), row(5L, TS, 50L), row(4L, TS, 2L)),
                file(row(4L, TS, 3L)),
                file(row(5L, TS, 51L), row(4L, TS, 5L), row(4L, TS, 4L))));
        RegistryState state = view("files", false);
        Map<Long, Long> expected = Map.of(4L, 4L, 5L, 51L, 9L, 0L);

        assertThat(local(state, "files")).isEqualTo(expected);
        for (int run = 0; run < 3; run++) {
            assertThat(spark(state, "files")).as("Spark run %d", run).isEqualTo(expected);
        }
        assertThat(online(state, "files", true)).as("incremental").isEqualTo(expected);
        assertThat(online(state, "files", false)).as("full").isEqualTo(expected);
    }

    @Test
    void tiesAcrossPartitionsFollowTheCommitNotThePartitionOrder() {
        datasets.create(DatasetName.parse(ns + ".parted"), List.of(write(dir, "parted.csv", "user_id,event_ts,src,v", "9," + T + ",a,0")),
                Optional.empty(), List.of("src"), WriteOptions.defaults(), Provenance.of("test", List.of()));
        // one commit: user 6's last row in partition a, user 7's in partition b; then a commit to partition a alone
        TestTables.appendFiles(datasets, DatasetName.parse(ns + ".parted"), List.of(
                file(row(6L, TS, "b", 60L), row(7L, TS, "b", 71L)),
                file(row(6L, TS, "a", 61L), row(7L, TS, "a", 70L)),
                file(row(7L, TS, "b", 72L), row(8L, TS, "b", 80L))));
        TestTables.appendFiles(datasets, DatasetName.parse(ns + ".parted"), List.of(file(row(8L, TS, "a", 81L))));
        RegistryState state = view("parted", false);
        Map<Long, Long> expected = Map.of(6L, 61L, 7L, 72L, 8L, 81L, 9L, 0L);

        assertThat(local(state, "parted")).isEqualTo(expected);
        for (int run = 0; run < 3; run++) {
            assertThat(spark(state, "parted")).as("Spark run %d", run).isEqualTo(expected);
        }
        assertThat(online(state, "parted", false)).isEqualTo(expected);
    }

    @Test
    void anIncrementalRunTakesALaterTiedRowAndAFullRunNeverGoesBackToAnEarlierOne() {
        create("scores", "user_id,event_ts,v", "1," + T + ",10", "2," + T + ",30");
        RegistryState state = view("scores", false);
        assertThat(online(state, "scores", false)).isEqualTo(Map.of(1L, 10L, 2L, 30L));
        append("scores", "user_id,event_ts,v", "1," + T + ",20");

        assertThat(online(state, "scores", true)).isEqualTo(Map.of(1L, 20L, 2L, 30L));
        // a full run reads the earlier tied row again, after the later one is stored: it does not replace it
        assertThat(online(state, "scores", false)).isEqualTo(Map.of(1L, 20L, 2L, 30L));
        try (RocksDbOnlineStore store = RocksDbOnlineStore.openWriter(dir.resolve("online"))) {
            OnlineRow row = store.read("scores", List.of(EntityKeys.encode(List.of(1L)))).get(0).orElseThrow();
            assertThat(row.sequenceNumber()).isEqualTo(2);
            assertThat(row.rowOrder()).isZero();
        }
    }

    @Test
    void rowLevelDeletesAreAppliedBeforeTheTieIsDecided() {
        create("scores", "user_id,event_ts,v", "1," + T + ",10", "3," + T + ",50");
        append("scores", "user_id,event_ts,v", "1," + T + ",20", "3," + T + ",60", "3," + T + ",70");
        RegistryState state = view("scores", false);
        assertThat(online(state, "scores", true)).isEqualTo(Map.of(1L, 20L, 3L, 70L));
        // merge-on-read: the delete is a position delete file, the data files stay
        spark.sql("ALTER TABLE granary." + ns + ".scores SET TBLPROPERTIES ('write.delete.mode' = 'merge-on-read')");
        spark.sql("DELETE FROM granary." + ns + ".scores WHERE v IN (20, 70)");
        var table = datasets.load(DatasetName.parse(ns + ".scores"));
        assertThat(table.currentSnapshot().summary()).containsEntry("added-position-delete-files", "1");
        Map<Long, Long> expected = Map.of(1L, 10L, 3L, 60L);

        assertThat(new LocalPointInTimeJoin(datasets, state).unsupported(DatasetRef.parse(ns + ".entities"),
                List.of(new FeatureRef("scores", "v")))).contains(ns + ".scores has row-level deletes");
        assertThat(spark(state, "scores")).isEqualTo(expected);
        try (RocksDbOnlineStore store = RocksDbOnlineStore.openWriter(dir.resolve("fresh-online"))) {
            new Materializer(datasets, state, store).materialize(List.of("scores"), START, END);
            assertThat(stored(store, "scores")).as("a full run reads around the deleted rows").isEqualTo(expected);
        }
        try (RocksDbOnlineStore store = RocksDbOnlineStore.openWriter(dir.resolve("online"))) {
            var results = new Materializer(datasets, state, store).materializeIncremental(List.of("scores"), END);
            assertThat(results).singleElement().extracting(r -> r.mode()).isEqualTo("full (rows deleted)");
        }
    }
}
