package io.granary.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.cache.stage.SnapshotFiles;
import io.granary.cache.stage.StageResult;
import io.granary.cache.store.EvictionPolicy;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.packer.Manifest;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeCacheTest {

    private static final long MB = 1 << 20;

    @TempDir
    Path temp;

    private CacheFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new CacheFixture(temp);
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    @Test
    void stagingCopiesEverySnapshotFileOnceAndARerunCopiesNothing() throws Exception {
        DatasetRef ref = fixture.table("demo.events", 5, 200, 1);
        try (NodeCache cache = fixture.cache(fixture.settings("cache", 100 * MB))) {
            SnapshotFiles files = cache.resolve(ref);
            StageResult first = cache.stage(ref, 4, false);
            assertThat(first.files()).isEqualTo(6); // five data files and the view manifest
            assertThat(first.filesCopied()).isEqualTo(6);
            assertThat(first.bytesCopied()).isEqualTo(files.bytes());
            for (SnapshotFiles.Remote remote : files.remote()) {
                Path cached = cache.entryFiles().path(remote.entryId());
                assertThat(Files.readAllBytes(cached)).isEqualTo(Files.readAllBytes(Path.of(io.granary.cache.tier.Tiers.normalize(remote.location()))));
            }

            StageResult again = cache.stage(ref, 4, false);
            assertThat(again.filesCopied()).isZero();
            assertThat(again.filesCached()).isEqualTo(6);
            CacheStatus status = cache.status();
            assertThat(status.usedBytes()).isEqualTo(files.bytes());
            assertThat(status.snapshots()).singleElement().satisfies(s -> {
                assertThat(s.cachedPercent()).isEqualTo(100.0);
                assertThat(s.pinnedBy()).isEmpty();
            });
        }
    }

    @Test
    void aSnapshotThatAppendedOneFileCostsOneFileAndSharedFilesCountOnce() {
        DatasetRef first = fixture.table("demo.events", 4, 100, 1);
        DatasetRef second = fixture.table("demo.events", 1, 100, 2);
        try (NodeCache cache = fixture.cache(fixture.settings("cache", 100 * MB))) {
            cache.stage(first, 2, false);
            StageResult next = cache.stage(second, 2, false);
            assertThat(next.filesCopied()).as("the new data file and the new view manifest").isEqualTo(2);
            long expected = cache.resolve(second).bytes() + cache.resolve(first).generated().get(0).content().length;
            assertThat(cache.status().usedBytes()).isEqualTo(expected);
            assertThat(cache.status().entries()).isEqualTo(7);
        }
    }

    @Test
    void aPackedSetStagesItsShardsIndexAndAManifestAsOfTheSnapshot() throws Exception {
        Path shards = temp.resolve("shards");
        DatasetRef firstPack = fixture.packed("media.speech", shards, 2, 10, 1);
        long firstSnapshot = fixture.datasets.resolve(firstPack).snapshot().orElseThrow().snapshotId();
        fixture.packed("media.speech", shards, 1, 10, 2);
        try (NodeCache cache = fixture.cache(fixture.settings("cache", 100 * MB))) {
            SnapshotFiles old = cache.resolve(DatasetRef.at(firstPack.dataset(), firstSnapshot));
            SnapshotFiles latest = cache.resolve(firstPack);
            assertThat(latest.remote().size()).isGreaterThan(old.remote().size());
            assertThat(old.remote()).extracting(SnapshotFiles.Remote::kind).contains("shard", "index");

            cache.stage(DatasetRef.at(firstPack.dataset(), firstSnapshot), 2, false);
            Manifest oldManifest = Manifest.parse(old.generated().get(0).content(), "test");
            Manifest full = Manifest.read(shards);
            assertThat(oldManifest.shards()).hasSizeLessThan(full.shards().size());
            assertThat(oldManifest.samples()).isEqualTo(20);
            for (SnapshotFiles.Remote shard : old.remote()) {
                assertThat(Files.readAllBytes(cache.entryFiles().path(shard.entryId()))).isEqualTo(Files.readAllBytes(shards.resolve(shard.name())));
            }
            StageResult more = cache.stage(firstPack, 2, false);
            assertThat(more.filesCopied()).as("the second pack's shards and index parts, and the new manifest")
                    .isEqualTo(latest.remote().size() - old.remote().size() + 1);
        }
    }

    @Test
    void verifyDropsACorruptedEntryAndTheNextStageFetchesItAgain() throws Exception {
        DatasetRef ref = fixture.table("demo.events", 3, 100, 1);
        try (NodeCache cache = fixture.cache(fixture.settings("cache", 100 * MB))) {
            cache.stage(ref, 2, false);
            SnapshotFiles.Remote victim = cache.resolve(ref).remote().get(1);
            Path entry = cache.entryFiles().path(victim.entryId());
            byte[] original = Files.readAllBytes(entry);
            entry.toFile().setWritable(true);
            try (RandomAccessFile file = new RandomAccessFile(entry.toFile(), "rw")) {
                file.seek(100);
                file.write(original[100] ^ 0x5a);
            }

            NodeCache.VerifyResult result = cache.verify(2);
            assertThat(result.checked()).isEqualTo(4);
            assertThat(result.damaged()).containsExactly(victim.entryId());
            assertThat(entry).doesNotExist();
            assertThat(cache.status().snapshots().get(0).cachedFiles()).isEqualTo(3);

            StageResult restaged = cache.stage(ref, 2, false);
            assertThat(restaged.filesCopied()).isEqualTo(1);
            assertThat(Files.readAllBytes(entry)).isEqualTo(original);
            assertThat(cache.verify(2).damaged()).isEmpty();
        }
    }

    @Test
    void lruEvictsTheLeastRecentlyUsedSnapshotFirst() {
        DatasetRef a = fixture.table("demo.a", 2, 400, 1);
        DatasetRef b = fixture.table("demo.b", 2, 400, 2);
        DatasetRef c = fixture.table("demo.c", 2, 400, 3);
        try (NodeCache probe = fixture.cache(fixture.settings("probe", 100 * MB))) {
            long each = Math.max(probe.resolve(a).bytes(), Math.max(probe.resolve(b).bytes(), probe.resolve(c).bytes()));
            // room for two snapshots, not three; watermarks at 100% so eviction frees just enough
            CacheSettings settings = fixture.settings("cache", 2 * each + each / 2).withWatermarks(1.0, 1.0);
            try (NodeCache cache = fixture.cache(settings)) {
                cache.stage(a, 2, false);
                cache.stage(b, 2, false);
                cache.stage(a, 2, false); // a is now the more recently used
                StageResult third = cache.stage(c, 2, false);
                assertThat(third.evicted()).isGreaterThan(0);
                assertThat(cachedPercent(cache, b)).isLessThan(100.0);
                assertThat(cachedPercent(cache, a)).isEqualTo(100.0);
                assertThat(cachedPercent(cache, c)).isEqualTo(100.0);
                assertThat(cache.status().usedBytes()).isLessThanOrEqualTo(settings.quota().getAsLong());
            }
        }
    }

    @Test
    void lfuEvictsTheLeastOftenUsedSnapshotFirst() {
        DatasetRef a = fixture.table("demo.a", 2, 400, 1);
        DatasetRef b = fixture.table("demo.b", 2, 400, 2);
        DatasetRef c = fixture.table("demo.c", 2, 400, 3);
        try (NodeCache probe = fixture.cache(fixture.settings("probe", 100 * MB))) {
            long each = Math.max(probe.resolve(a).bytes(), Math.max(probe.resolve(b).bytes(), probe.resolve(c).bytes()));
            CacheSettings settings = fixture.settings("cache", 2 * each + each / 2).withWatermarks(1.0, 1.0).withPolicy(EvictionPolicy.LFU);
            try (NodeCache cache = fixture.cache(settings)) {
                cache.stage(a, 2, false);
                cache.stage(a, 2, false);
                cache.stage(a, 2, false);
                cache.stage(b, 2, false); // b is the most recent but used once: LRU would evict a, LFU evicts b
                cache.stage(c, 2, false);
                assertThat(cachedPercent(cache, a)).isEqualTo(100.0);
                assertThat(cachedPercent(cache, b)).isLessThan(100.0);
                assertThat(cachedPercent(cache, c)).isEqualTo(100.0);
            }
        }
    }

    @Test
    void pinnedEntriesAreNeverEvictedAndAQuotaTheyFillIsAClearError() throws Exception {
        DatasetRef a = fixture.table("demo.a", 2, 400, 1);
        DatasetRef b = fixture.table("demo.b", 2, 400, 2);
        try (NodeCache probe = fixture.cache(fixture.settings("probe", 100 * MB))) {
            long each = Math.max(probe.resolve(a).bytes(), probe.resolve(b).bytes());
            CacheSettings settings = fixture.settings("cache", each + each / 2);
            try (NodeCache cache = fixture.cache(settings)) {
                Path view = temp.resolve("view-a");
                new io.granary.cache.mount.Mounts(cache).mount(a, view, 2, false);
                assertThatThrownBy(() -> cache.stage(b, 2, false))
                        .isInstanceOf(GranaryException.class)
                        .hasMessageContaining("needs")
                        .hasMessageContaining("quota is")
                        .hasMessageContaining("pinned by mount " + view)
                        .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("cache.quota"));
                assertThat(cachedPercent(cache, a)).isEqualTo(100.0);
                assertThat(cache.status().reservedBytes()).as("a failed stage releases its reservations").isZero();
                assertThat(cache.status().snapshots()).filteredOn(s -> s.key().startsWith("demo.b"))
                        .allSatisfy(s -> assertThat(s.pinnedBy()).isEmpty());

                new io.granary.cache.mount.Mounts(cache).umount(view);
                StageResult staged = cache.stage(b, 2, false);
                assertThat(staged.evicted()).as("once unmounted, a may go").isGreaterThan(0);
                assertThat(cachedPercent(cache, b)).isEqualTo(100.0);
            }
        }
    }

    @Test
    void aSnapshotLargerThanTheWholeQuotaNamesTheQuotaAndTheNeed() {
        DatasetRef a = fixture.table("demo.a", 2, 400, 1);
        try (NodeCache cache = fixture.cache(fixture.settings("cache", 10_000))) {
            assertThatThrownBy(() -> cache.stage(a, 2, false))
                    .isInstanceOf(GranaryException.class)
                    .hasMessageContaining("quota is 9.8 KiB");
            assertThat(CacheFixture.diskUse(temp.resolve("cache"))).isZero();
        }
    }

    @Test
    void unknownDatasetsAndUnreachableTiersGetClearErrors() {
        DatasetRef a = fixture.table("demo.a", 1, 10, 1);
        try (NodeCache cache = fixture.cache(fixture.settings("cache", 100 * MB))) {
            assertThatThrownBy(() -> cache.stage(DatasetRef.parse("demo.nope"), 2, false))
                    .isInstanceOf(GranaryException.class).hasMessageContaining("demo.nope");
            assertThatThrownBy(() -> cache.evict(a))
                    .isInstanceOf(GranaryException.class).hasMessageContaining("is not in the cache");
        }
        CacheSettings unreachable = fixture.settings("cache2", 100 * MB)
                .withMirrors(Map.of(fixture.warehouse().toString(), "hdfs://127.0.0.1:1/warehouse"));
        try (NodeCache cache = fixture.cache(unreachable)) {
            assertThatThrownBy(() -> cache.stage(a, 2, false))
                    .isInstanceOf(GranaryException.class)
                    .hasMessageContaining("hdfs://127.0.0.1:1/warehouse/")
                    .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("reachable"));
            assertThat(cache.status().reservedBytes()).isZero();
            assertThat(cache.status().snapshots().get(0).pinnedBy()).isEmpty();
        }
    }

    @Test
    void evictRemovesASnapshotButKeepsFilesAPinnedSnapshotShares() throws Exception {
        DatasetRef first = fixture.table("demo.events", 3, 100, 1);
        DatasetRef second = fixture.table("demo.events", 1, 100, 2);
        try (NodeCache cache = fixture.cache(fixture.settings("cache", 100 * MB))) {
            cache.stage(first, 2, false);
            Path view = temp.resolve("view");
            new io.granary.cache.mount.Mounts(cache).mount(second, view, 2, false);
            assertThatThrownBy(() -> cache.evict(second)).hasMessageContaining("pinned by mount " + view);
            NodeCache.EvictResult result = cache.evict(first);
            assertThat(result.entries()).as("only the first snapshot's own view manifest").isEqualTo(1);
            assertThat(result.kept()).isEqualTo(3);
            assertThat(cache.status().snapshots()).extracting(CacheStatus.SnapshotStatus::key).containsExactly(cache.resolve(second).key());
        }
    }

    @Test
    void aSnapshotOfManyManifestsResolvesToTheSameFilesEveryTime() {
        DatasetRef ref = null;
        for (int i = 0; i < 12; i++) {
            ref = fixture.table("demo.events", 1, 5, i);
        }
        try (NodeCache cache = fixture.cache(fixture.settings("cache", 100 * MB))) {
            SnapshotFiles first = cache.resolve(ref);
            for (int i = 0; i < 5; i++) {
                SnapshotFiles again = cache.resolve(ref);
                assertThat(again.remote()).isEqualTo(first.remote());
                assertThat(again.generated().get(0).entryId()).isEqualTo(first.generated().get(0).entryId());
            }
            cache.stage(ref, 2, false);
            assertThat(cache.stage(ref, 2, false).filesCopied()).isZero();
        }
    }

    private static double cachedPercent(NodeCache cache, DatasetRef ref) {
        String key = cache.resolve(ref).key();
        return cache.status().snapshots().stream().filter(s -> s.key().equals(key)).findFirst()
                .map(CacheStatus.SnapshotStatus::cachedPercent).orElse(0.0);
    }

    static List<String> names(Path dir) throws Exception {
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
