package io.granary.feature.materialize;

import static io.granary.feature.testing.FeatureStoreFixture.DEFINITIONS;
import static io.granary.feature.testing.FeatureStoreFixture.int64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.WriteResult;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.OnlineRow;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.registry.RegistryState;
import io.granary.feature.testing.FeatureStoreFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaterializerTest {

    @TempDir
    Path dir;

    FeatureStoreFixture fixture;
    RocksDbOnlineStore store;

    static final Instant END = Instant.parse("2026-12-01T00:00:00Z");

    @BeforeEach
    void setUp() {
        fixture = new FeatureStoreFixture(dir);
        fixture.userStats("1,2026-11-25T00:00:00Z,2026-11-25T01:00:00Z,3,1.0");
        fixture.itemStats("{\"item_id\": \"a\", \"event_ts\": \"2026-11-25T00:00:00Z\", \"ctr\": 0.1, \"tags\": [\"x\"]}");
        store = RocksDbOnlineStore.openWriter(fixture.onlinePath);
    }

    @AfterEach
    void tearDown() throws Exception {
        store.close();
        fixture.close();
    }

    private Materializer materializer() {
        RegistryState state = fixture.registry.load().generation() == 0 ? fixture.apply(DEFINITIONS) : fixture.registry.load();
        return new Materializer(fixture.datasets, state, store);
    }

    private Optional<OnlineRow> user(long id) {
        return store.read("user_stats", List.of(EntityKeys.encode(List.of(id)))).get(0);
    }

    private long clicks(long user) {
        return user(user).orElseThrow().values().get(0).getInt64Val();
    }

    @Test
    void fullRunKeepsTheLatestRowPerEntityWithinTheWindow() {
        fixture.userStats(
                "1,2026-11-26T00:00:00Z,2026-11-26T01:00:00Z,5,1.5",
                "1,2026-11-27T00:00:00Z,2026-11-27T01:00:00Z,7,",
                "2,2026-11-24T00:00:00Z,2026-11-24T01:00:00Z,9,2.0",
                "1,2026-12-02T00:00:00Z,2026-12-02T01:00:00Z,99,9.9");

        List<MaterializeResult> results = materializer().materialize(List.of("user_stats"), Instant.parse("2026-11-20T00:00:00Z"), END);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.rowsRead()).isEqualTo(5);
            assertThat(r.entities()).isEqualTo(2);
        });
        assertThat(clicks(1)).as("the 12-02 row is past the window's end").isEqualTo(7);
        assertThat(user(1).orElseThrow().values().get(1).getValCase()).isEqualTo(Value.ValCase.VAL_NOT_SET);
        assertThat(clicks(2)).isEqualTo(9);
        assertThat(user(3)).isEmpty();
    }

    @Test
    void equalEventTimesAreDecidedByTheCreatedTimestamp() {
        fixture.userStats("5,2026-11-26T00:00:00Z,2026-11-26T03:00:00Z,30,0.0", "5,2026-11-26T00:00:00Z,2026-11-26T02:00:00Z,20,0.0");
        materializer().materialize(List.of("user_stats"), Instant.EPOCH, END);
        assertThat(clicks(5)).isEqualTo(30);

        fixture.userStats("5,2026-11-26T00:00:00Z,2026-11-26T01:00:00Z,10,0.0");
        materializer().materializeIncremental(List.of("user_stats"), END);
        assertThat(clicks(5)).as("an earlier-computed row at the same event time never wins").isEqualTo(30);
    }

    @Test
    void incrementalRunsReadOnlyNewSnapshotsAndNeverGoBackInTime() {
        Materializer materializer = materializer();
        MaterializeResult first = materializer.materializeIncremental(List.of("user_stats"), END).get(0);
        assertThat(first.mode()).startsWith("first");
        assertThat(user(1)).as("a first run reads the view's ttl (2d) before --end; the 11-25 row is older").isEmpty();

        fixture.userStats("1,2026-11-30T00:00:00Z,2026-11-30T01:00:00Z,10,1.0");
        fixture.userStats("1,2026-11-29T12:00:00Z,2026-11-30T02:00:00Z,4,1.0", "2,2026-11-29T12:00:00Z,2026-11-29T13:00:00Z,2,0.5");
        MaterializeResult second = materializer.materializeIncremental(List.of("user_stats"), END).get(0);

        assertThat(second.mode()).isEqualTo("incremental");
        assertThat(second.snapshots()).isEqualTo(2);
        assertThat(second.rowsRead()).as("only the rows of the two new snapshots").isEqualTo(3);
        assertThat(clicks(1)).as("a late-arriving older row does not replace a newer one").isEqualTo(10);
        assertThat(clicks(2)).isEqualTo(2);

        MaterializeResult third = materializer.materializeIncremental(List.of("user_stats"), END).get(0);
        assertThat(third.rowsRead()).isZero();
        assertThat(third.snapshots()).isZero();
    }

    @Test
    void aFailedIncrementalRunResumesAfterItsLastFinishedSnapshot() throws Exception {
        Materializer materializer = materializer();
        materializer.materializeIncremental(List.of("user_stats"), END);
        WriteResult second = fixture.userStats("7,2026-11-27T00:00:00Z,2026-11-27T01:00:00Z,70,1.0");
        WriteResult third = fixture.userStats("8,2026-11-27T00:00:00Z,2026-11-27T01:00:00Z,80,1.0", "9,2026-11-27T00:00:00Z,2026-11-27T01:00:00Z,90,1.0");
        Table table = fixture.datasets.load(FeatureStoreFixture.USER_STATS);
        DataFile lastFile = table.snapshot(third.snapshotId()).addedDataFiles(table.io()).iterator().next();
        Path file = Path.of(lastFile.location().replaceFirst("^file:", ""));
        Path saved = dir.resolve("saved.parquet");
        Files.copy(file, saved);
        Files.write(file, new byte[] {1, 2, 3});

        assertThatThrownBy(() -> materializer.materializeIncremental(List.of("user_stats"), END)).isInstanceOf(RuntimeException.class);
        assertThat(clicks(7)).as("the finished snapshot is in the store").isEqualTo(70);
        assertThat(user(8)).isEmpty();

        Files.copy(saved, file, StandardCopyOption.REPLACE_EXISTING);
        MaterializeResult resumed = materializer.materializeIncremental(List.of("user_stats"), END).get(0);
        assertThat(resumed.snapshots()).as("only the snapshot that failed is read again").isEqualTo(1);
        assertThat(resumed.rowsRead()).isEqualTo(2);
        assertThat(clicks(8)).isEqualTo(80);
        assertThat(second.snapshotId()).isNotEqualTo(third.snapshotId());
    }

    @Test
    void viewsAreCheckedBeforeAnythingIsRead() {
        Materializer materializer = materializer();
        assertThatThrownBy(() -> materializer.materialize(List.of("nope"), Instant.EPOCH, END))
                .isInstanceOf(GranaryException.class).hasMessage("unknown feature view 'nope'");
        assertThatThrownBy(() -> materializer.materialize(List.of("user_stats"), END, Instant.EPOCH)).hasMessageContaining("is not before");
        assertThat(materializer.materialize(List.of(), Instant.EPOCH, END)).extracting(MaterializeResult::view)
                .containsExactly("item_stats", "user_stats");
        assertThat(DatasetRef.latest(FeatureStoreFixture.USER_STATS)).isNotNull();
        assertThat(int64(1).getInt64Val()).isEqualTo(1);
    }

    @Test
    void aSecondWriterIsRefusedWhileOneIsOpen() {
        assertThatThrownBy(() -> RocksDbOnlineStore.openWriter(fixture.onlinePath))
                .isInstanceOf(GranaryException.class).hasMessageContaining("is being written by another process");
    }
}
