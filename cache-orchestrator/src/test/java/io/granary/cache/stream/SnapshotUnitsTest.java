package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.cache.CacheFixture;
import io.granary.cache.NodeCache;
import io.granary.cache.stage.SnapshotFiles;
import io.granary.dataset.DatasetRef;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Units of real staged snapshots: a table's row groups from the cached files' footers, a packed set's shards from its manifest. */
class SnapshotUnitsTest {

    @TempDir
    Path temp;

    @Test
    void aTablesUnitsAreItsRowGroupsAndAPackedSetsItsShards() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            DatasetRef table = fixture.table("demo.events", 4, 150, 1);
            DatasetRef packed = fixture.packed("media.speech", temp.resolve("shards"), 3, 10, 2);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                cache.stage(table, 2, false);
                SnapshotFiles tableFiles = cache.resolve(table);
                List<StreamUnit> units = SnapshotUnits.of(tableFiles, cache.entryFiles());
                assertThat(units).hasSizeGreaterThanOrEqualTo(4);
                assertThat(units.stream().mapToLong(StreamUnit::rows).sum()).isEqualTo(600);
                assertThat(units.stream().map(StreamUnit::file).distinct().toList())
                        .isEqualTo(tableFiles.remote().stream().map(SnapshotFiles.Remote::name).toList());

                cache.stage(packed, 2, false);
                SnapshotFiles shardFiles = cache.resolve(packed);
                List<StreamUnit> shards = SnapshotUnits.of(shardFiles, cache.entryFiles());
                assertThat(shards).isNotEmpty().allMatch(u -> u.file().endsWith(".tar") && u.part() == 0);
                assertThat(shards.stream().mapToLong(StreamUnit::rows).sum()).isEqualTo(30);

                // two ranks of a shuffled epoch over the shards cover every sample once
                EpochPlan plan = EpochPlan.of(shards, 3, 0, Shuffle.UNITS);
                assertThat(plan.rank(0, 2, true, 0).rows() + plan.rank(1, 2, true, 0).rows()).isEqualTo(30);
            }
        }
    }
}
