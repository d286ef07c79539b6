package io.granary.cache.tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.cache.CacheFixture;
import io.granary.cache.CacheSettings;
import io.granary.cache.NodeCache;
import io.granary.cache.stage.SnapshotFiles;
import io.granary.cache.stage.StageResult;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alluxio:// tier against a real Alluxio master and worker in this JVM, with the directory
 * holding the warehouse and the shards mounted in it (as Alluxio fronts a data lake): it stages
 * the same bytes as file://, read through Alluxio's client.
 */
class AlluxioTierTest {

    @TempDir
    Path temp;

    @Test
    void tablesAndPackedSetsStageTheSameBytesFromAlluxioAsFromTheLocalDisk() throws Exception {
        Path lake = temp.resolve("lake");
        try (CacheFixture fixture = new CacheFixture(lake)) {
            DatasetRef table = fixture.table("demo.events", 4, 100, 1);
            Path shards = lake.resolve("shards");
            DatasetRef packed = fixture.packed("media.speech", shards, 2, 6, 1);
            try (AlluxioCluster alluxio = AlluxioCluster.start(lake)) {
                CacheSettings local = CacheSettings.defaults(temp.resolve("local-cache")).withQuota(1L << 30);
                CacheSettings remote = CacheSettings.defaults(temp.resolve("alluxio-cache")).withQuota(1L << 30)
                        .withMirrors(Map.of(lake.toString(), alluxio.lake()));
                try (NodeCache fromDisk = new NodeCache(local, fixture.datasets, new Configuration());
                     NodeCache fromAlluxio = new NodeCache(remote, fixture.datasets, new Configuration())) {
                    for (DatasetRef ref : new DatasetRef[] {table, packed}) {
                        StageResult a = fromDisk.stage(ref, 2, false);
                        StageResult b = fromAlluxio.stage(ref, 2, false);
                        assertThat(b.filesCopied()).isEqualTo(a.filesCopied()).isPositive();
                        assertThat(b.bytesCopied()).isEqualTo(a.bytesCopied());
                        for (SnapshotFiles.Remote file : fromAlluxio.resolve(ref).remote()) {
                            assertThat(Files.readAllBytes(fromAlluxio.entryFiles().path(file.entryId())))
                                    .as(file.name()).isEqualTo(Files.readAllBytes(fromDisk.entryFiles().path(file.entryId())));
                        }
                    }
                    assertThat(fromAlluxio.store().transact(txn -> txn.entries()).stream().map(e -> e.source()))
                            .filteredOn(source -> !source.startsWith("generated:")).isNotEmpty()
                            .allMatch(source -> source.startsWith(alluxio.lake() + "/"));
                    assertThat(fromAlluxio.verify(2).damaged()).isEmpty();
                }

                // a file the catalog lists but Alluxio cannot find: named, nothing half-written
                DatasetRef more = fixture.table("demo.more", 1, 50, 2);
                SnapshotFiles files;
                try (NodeCache probe = new NodeCache(CacheSettings.defaults(temp.resolve("probe")), fixture.datasets, new Configuration())) {
                    files = probe.resolve(more);
                }
                Path gone = Path.of(Tiers.normalize(files.remote().stream().filter(f -> f.name().endsWith(".parquet")).findFirst().orElseThrow()
                        .location()));
                Files.delete(gone);
                try (NodeCache fromAlluxio = new NodeCache(CacheSettings.defaults(temp.resolve("missing-cache")).withQuota(1L << 30)
                        .withMirrors(Map.of(lake.toString(), alluxio.lake())), fixture.datasets, new Configuration())) {
                    assertThatThrownBy(() -> fromAlluxio.stage(more, 2, false)).isInstanceOf(GranaryException.class)
                            .hasMessageContaining(alluxio.lake() + "/");
                    assertThat(fromAlluxio.status().usedBytes()).isLessThan(files.bytes());
                }
            }
        }
    }

    @Test
    void anAlluxioMasterThatDoesNotAnswerIsNamed() throws Exception {
        // Granary gives a master 20 s to answer unless told otherwise: be quicker here
        alluxio.conf.Configuration.set(alluxio.conf.PropertyKey.USER_RPC_RETRY_MAX_DURATION, "1s");
        try (CacheFixture fixture = new CacheFixture(temp.resolve("lake"))) {
            DatasetRef table = fixture.table("demo.events", 1, 10, 1);
            CacheSettings settings = CacheSettings.defaults(temp.resolve("cache")).withQuota(1L << 30)
                    .withMirrors(Map.of(fixture.warehouse().toString(), "alluxio://127.0.0.1:1/warehouse"));
            try (NodeCache cache = new NodeCache(settings, fixture.datasets, new Configuration())) {
                assertThatThrownBy(() -> cache.stage(table, 2, false)).isInstanceOf(GranaryException.class)
                        .hasMessageContaining("alluxio://127.0.0.1:1/warehouse/");
            }
        }
    }
}
