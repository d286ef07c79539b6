package io.granary.feature.materialize;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.testing.SharedSpark;
import io.granary.dataset.testing.TestTables;
import io.granary.feature.offline.LocalPointInTimeJoin;
import io.granary.feature.offline.PointInTimeJoin;
import io.granary.feature.offline.PointInTimeValues;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.Layouts;
import io.granary.feature.online.OnlineRow;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** verify-online: what the store serves against the offline answer, with both offline engines. */
class OnlineVerifierTest {

    static final String T = "2026-11-28T10:00:00Z";
    static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
    static final Instant END = Instant.parse("2026-12-01T00:00:00Z");

    @TempDir
    Path dir;

    Datasets datasets;
    String ns;
    RegistryState registry;
    RocksDbOnlineStore store;

    @BeforeEach
    void setUp() {
        datasets = Datasets.open(SharedSpark.catalog());
        ns = "verify_" + UUID.randomUUID().toString().substring(0, 8);
        // users 1-3 tie across commits and inside a file; user 4's row is old; user 5 has a null feature
        create("scores", "user_id,event_ts,v,w", "1," + T + ",10,1.5", "2," + T + ",30,2.5", "2," + T + ",40,2.5", "3," + T + ",50,3.5",
                "4,2026-11-02T00:00:00Z,90,9.5", "5," + T + ",,5.5");
        append("scores", "user_id,event_ts,v,w", "1," + T + ",20,1.5", "3," + T + ",60,3.5", "3," + T + ",70,3.5");
        registry = register(ns + ".scores");
        store = RocksDbOnlineStore.openWriter(dir.resolve("online"));
    }

    @AfterEach
    void tearDown() throws Exception {
        store.close();
        datasets.close();
    }

    private void create(String name, String... csv) {
        TestTables.csv(datasets, dir, DatasetName.parse(ns + "." + name), csv);
    }

    private void append(String name, String... csv) {
        TestTables.csv(datasets, dir, DatasetName.parse(ns + "." + name), csv);
    }

    /** Registers view scores (features v and w, keyed by user, no ttl) over {@code dataset}. */
    private RegistryState register(String dataset) {
        Path yaml = write(dir, "features-" + System.nanoTime() + ".yaml",
                "entities:",
                "  - {name: user, join_key: user_id, value_type: INT64}",
                "feature_views:",
                "  - name: scores",
                "    entities: [user]",
                "    ttl: 0",
                "    source: {dataset: " + dataset + ", timestamp_field: event_ts}",
                "    features: [{name: v, dtype: INT64}, {name: w, dtype: DOUBLE}]");
        Registry registryStore = new Registry(dir.resolve("registry"));
        Definitions definitions = Definitions.parse(yaml);
        DefinitionChecker.check(definitions, registryStore.load(), datasets);
        return registryStore.apply(definitions);
    }

    private PointInTimeValues engine(boolean spark) {
        return spark ? new PointInTimeJoin(SharedSpark.session(), registry) : new LocalPointInTimeJoin(datasets, registry);
    }

    private OnlineVerifier.ViewCheck verify(boolean spark, OptionalInt sample, Optional<Instant> at) {
        PointInTimeValues engine = engine(spark);
        List<OnlineVerifier.ViewCheck> checks = new OnlineVerifier(datasets, registry, store, (view, snapshot) -> engine)
                .verify(List.of(), sample, at);
        assertThat(checks).hasSize(1);
        return checks.get(0);
    }

    @ParameterizedTest(name = "Spark engine: {0}")
    @ValueSource(booleans = {false, true})
    void aCleanMaterializationServesWhatTrainingSees(boolean spark) {
        new Materializer(datasets, registry, store).materialize(List.of(), START, END);

        OnlineVerifier.ViewCheck check = verify(spark, OptionalInt.empty(), Optional.empty());

        assertThat(check.mismatches()).isEmpty();
        assertThat(check.entities()).isEqualTo(5);
        assertThat(check.online()).isEqualTo(5);
        assertThat(check.offline()).isEqualTo(5);
        assertThat(check.at()).isEqualTo(END.minusNanos(1000));
    }

    @ParameterizedTest(name = "Spark engine: {0}")
    @ValueSource(booleans = {false, true})
    void aValueWrittenBehindGranarysBackIsFound(boolean spark) {
        new Materializer(datasets, registry, store).materialize(List.of(), START, END);
        // a newer row for user 3, not from the source
        OnlineRow planted = new OnlineRow(Layouts.id(registry.featureView("scores")), Instant.parse(T).toEpochMilli() * 1000, 0, 99, 0,
                List.of(Value.newBuilder().setInt64Val(71).build(), Value.newBuilder().setDoubleVal(3.5).build()));
        assertThat(store.writeNewer("scores", List.of(EntityKeys.encode(List.of(3L))), List.of(planted), Optional.empty())).isEqualTo(1);

        OnlineVerifier.ViewCheck check = verify(spark, OptionalInt.empty(), Optional.empty());

        assertThat(check.mismatched()).isEqualTo(1);
        assertThat(check.mismatches()).singleElement().satisfies(mismatch -> {
            assertThat(mismatch.entity()).isEqualTo("user_id=3");
            assertThat(mismatch.feature()).isEqualTo("v");
            assertThat(mismatch.online().getInt64Val()).isEqualTo(71);
            assertThat(mismatch.onlineStatus()).isEqualTo(FieldStatus.PRESENT);
            assertThat(mismatch.offline().getInt64Val()).isEqualTo(70);
        });
    }

    @Test
    void anEntityTheMaterializationMissedIsFoundFromTheSourceSide() {
        // user 4's only row is before this window: the store never gets it, training does (ttl 0)
        new Materializer(datasets, registry, store).materialize(List.of(), Instant.parse("2026-11-20T00:00:00Z"), END);

        OnlineVerifier.ViewCheck check = verify(false, OptionalInt.empty(), Optional.empty());

        assertThat(check.entities()).isEqualTo(5);
        assertThat(check.online()).isEqualTo(4);
        assertThat(check.mismatches()).extracting(OnlineVerifier.Mismatch::entity, OnlineVerifier.Mismatch::feature,
                OnlineVerifier.Mismatch::onlineStatus).containsExactly(
                        org.assertj.core.groups.Tuple.tuple("user_id=4", "v", FieldStatus.NOT_FOUND),
                        org.assertj.core.groups.Tuple.tuple("user_id=4", "w", FieldStatus.NOT_FOUND));
    }

    @Test
    void rowsAppendedAfterTheMaterializationAreNotMismatches() {
        new Materializer(datasets, registry, store).materializeIncremental(List.of(), END);
        append("scores", "user_id,event_ts,v,w", "1," + T + ",21,1.5", "6," + T + ",60,6.5");

        OnlineVerifier.ViewCheck check = verify(false, OptionalInt.empty(), Optional.empty());

        assertThat(check.mismatches()).isEmpty();
        assertThat(check.entities()).isEqualTo(5);
    }

    @Test
    void anEarlierTimeFindsTheRowsTheStoreHoldsFromItsFuture() {
        new Materializer(datasets, registry, store).materialize(List.of(), START, END);

        OnlineVerifier.ViewCheck check = verify(false, OptionalInt.empty(), Optional.of(Instant.parse("2026-11-10T00:00:00Z")));

        // at that time only user 4's row existed: the store serves the others' later rows
        assertThat(check.mismatched()).isEqualTo(4);
        assertThat(check.mismatches()).extracting(OnlineVerifier.Mismatch::entity).doesNotContain("user_id=4");
    }

    @Test
    void aSampleIsTheSameEntitiesEveryRun() {
        new Materializer(datasets, registry, store).materialize(List.of(), START, END);

        OnlineVerifier.ViewCheck first = verify(false, OptionalInt.of(2), Optional.empty());
        OnlineVerifier.ViewCheck second = verify(false, OptionalInt.of(2), Optional.empty());

        assertThat(first.entities()).isEqualTo(2);
        assertThat(second.entities()).isEqualTo(2);
        assertThat(first.mismatches()).isEmpty();
    }

    @Test
    void aViewNeverMaterializedIsNamed() {
        assertThatThrownBy(() -> verify(false, OptionalInt.empty(), Optional.empty()))
                .isInstanceOf(GranaryException.class)
                .hasMessage("feature view scores has not been materialized into the online store")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("materialize-incremental"));
    }

    @Test
    void aSourceSnapshotExpiredSinceTheMaterializationIsNamed() {
        new Materializer(datasets, registry, store).materialize(List.of(), START, END);
        long materialized = datasets.load(DatasetName.parse(ns + ".scores")).currentSnapshot().snapshotId();
        append("scores", "user_id,event_ts,v,w", "7," + T + ",1,1.0");
        datasets.expire(DatasetName.parse(ns + ".scores"), Instant.now().plusSeconds(60), 1);

        assertThatThrownBy(() -> verify(false, OptionalInt.empty(), Optional.empty()))
                .isInstanceOf(GranaryException.class)
                .hasMessage("snapshot " + materialized + " of " + ns + ".scores, which feature view scores was materialized from, is gone")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("materialize the view again"));
    }

    @Test
    void aViewWhoseSourceChangedSinceItsMaterializationIsNamed() {
        new Materializer(datasets, registry, store).materialize(List.of(), START, END);
        create("other", "user_id,event_ts,v,w", "1," + T + ",1,1.0");
        registry = register(ns + ".other");

        assertThatThrownBy(() -> verify(false, OptionalInt.empty(), Optional.empty()))
                .isInstanceOf(GranaryException.class)
                .hasMessage("feature view scores was materialized from " + ns + ".scores, but its source is now " + ns + ".other");
        assertThatThrownBy(() -> new OnlineVerifier(datasets, registry, store, (view, snapshot) -> engine(false))
                .verify(List.of("nothing"), OptionalInt.empty(), Optional.empty()))
                .isInstanceOf(GranaryException.class).hasMessageContaining("'nothing'");
    }
}
