package io.granary.feature.materialize;

import static io.granary.feature.testing.FeatureStoreFixture.DEFINITIONS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.testing.TinyDisk;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.OnlineRow;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.registry.RegistryState;
import io.granary.feature.testing.FeatureStoreFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Materialization onto a real full disk: the online store on a 2 MiB tmpfs (needs root to mount, as on CI; skipped elsewhere, saying why). */
class FullDiskMaterializeTest {

    private static final int USERS = 80_000;
    private static final Instant END = Instant.parse("2026-12-01T00:00:00Z");

    @TempDir
    Path dir;

    private TinyDisk disk;
    private Path tiny;

    @BeforeEach
    void mountTinyDisk() throws Exception {
        disk = TinyDisk.mount(dir.resolve("tiny"), "2m");
        tiny = disk.path();
    }

    @AfterEach
    void unmount() throws Exception {
        if (disk != null) {
            disk.close();
        }
    }

    @Test
    void aRunThatFillsTheDiskFailsClearlyAndTheRerunCompletesOnceThereIsSpace() throws Exception {
        try (FeatureStoreFixture fixture = new FeatureStoreFixture(dir.resolve("store"))) {
            String[] rows = new String[USERS];
            for (int user = 0; user < USERS; user++) {
                rows[user] = user + ",2026-11-30T00:00:00Z,2026-11-30T01:00:00Z," + user + "," + user + ".5";
            }
            fixture.userStats(rows);
            fixture.itemStats("{\"item_id\": \"a\", \"event_ts\": \"2026-11-25T00:00:00Z\", \"ctr\": 0.1, \"tags\": []}");
            RegistryState state = fixture.apply(DEFINITIONS);
            Path online = tiny.resolve("online");

            try (RocksDbOnlineStore store = RocksDbOnlineStore.openWriter(online)) {
                assertThatThrownBy(() -> new Materializer(fixture.datasets, state, store).materializeIncremental(List.of("user_stats"), END))
                        .isInstanceOf(GranaryException.class)
                        .hasMessageContaining("cannot write the online store " + online + ": no space left on the device")
                        .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("free space at " + online)
                                .contains("carries on after the last batch it finished"));
            }

            disk.grow("64m");
            try (RocksDbOnlineStore store = RocksDbOnlineStore.openWriter(online)) {
                new Materializer(fixture.datasets, state, store).materializeIncremental(List.of("user_stats"), END);
                for (long user : new long[] {0, USERS / 2, USERS - 1}) {
                    Optional<OnlineRow> row = store.read("user_stats", List.of(EntityKeys.encode(List.of(user)))).get(0);
                    assertThat(row).as("user %d", user).isPresent();
                    assertThat(row.get().values().get(0).getInt64Val()).isEqualTo(user);
                }
                MaterializeResult again = new Materializer(fixture.datasets, state, store)
                        .materializeIncremental(List.of("user_stats"), END).get(0);
                assertThat(again.rowsRead()).as("the finished run was recorded: nothing left to read").isZero();
            }
        }
    }
}
