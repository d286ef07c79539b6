package io.granary.cache.tier;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.cache.CacheFixture;
import io.granary.cache.CacheSettings;
import io.granary.cache.NodeCache;
import io.granary.cache.stage.SnapshotFiles;
import io.granary.cache.stage.StageResult;
import io.granary.dataset.DatasetRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hdfs:// tier against a real NameNode and DataNode in this JVM: it stages the same bytes as file://. */
class HdfsTierTest {

    @TempDir
    static Path temp;

    private static MiniDFSCluster hdfs;
    private static Configuration conf;

    @BeforeAll
    static void startHdfs() throws Exception {
        conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, temp.resolve("hdfs").toString());
        conf.set("hadoop.security.authentication", "simple");
        conf.set("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", "20");
        hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        hdfs.waitActive();
    }

    @AfterAll
    static void stopHdfs() {
        if (hdfs != null) {
            hdfs.shutdown();
        }
    }

    @Test
    void tablesAndPackedSetsStageTheSameBytesFromHdfsAsFromTheLocalDisk() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp.resolve("catalog"))) {
            DatasetRef table = fixture.table("demo.events", 4, 100, 1);
            Path shards = temp.resolve("shards");
            DatasetRef packed = fixture.packed("media.speech", shards, 2, 6, 1);
            String namenode = "hdfs://127.0.0.1:" + hdfs.getNameNodePort();
            FileSystem fs = hdfs.getFileSystem();
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(fixture.warehouse().toUri()), new org.apache.hadoop.fs.Path("/warehouse"));
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(shards.toUri()), new org.apache.hadoop.fs.Path("/shards"));

            CacheSettings local = CacheSettings.defaults(temp.resolve("local-cache")).withQuota(1L << 30);
            CacheSettings remote = CacheSettings.defaults(temp.resolve("hdfs-cache")).withQuota(1L << 30)
                    .withMirrors(Map.of(fixture.warehouse().toString(), namenode + "/warehouse", shards.toString(), namenode + "/shards"));
            try (NodeCache fromDisk = new NodeCache(local, fixture.datasets, conf); NodeCache fromHdfs = new NodeCache(remote, fixture.datasets, conf)) {
                for (DatasetRef ref : new DatasetRef[] {table, packed}) {
                    StageResult a = fromDisk.stage(ref, 2, false);
                    StageResult b = fromHdfs.stage(ref, 2, false);
                    assertThat(b.filesCopied()).isEqualTo(a.filesCopied()).isPositive();
                    assertThat(b.bytesCopied()).isEqualTo(a.bytesCopied());
                    SnapshotFiles files = fromHdfs.resolve(ref);
                    for (SnapshotFiles.Remote file : files.remote()) {
                        assertThat(Files.readAllBytes(fromHdfs.entryFiles().path(file.entryId())))
                                .as(file.name()).isEqualTo(Files.readAllBytes(fromDisk.entryFiles().path(file.entryId())));
                    }
                    assertThat(fromHdfs.store().transact(txn -> txn.entries()).stream().map(e -> e.source()))
                            .filteredOn(source -> !source.startsWith("generated:")).allMatch(source -> source.startsWith(namenode));
                }
                assertThat(fromHdfs.verify(2).damaged()).isEmpty();
            }
        }
    }
}
