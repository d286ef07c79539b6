package io.granary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.cache.CacheSettings;
import io.granary.cache.NodeCache;
import io.granary.cache.stream.DataServer;
import io.granary.dataset.Datasets;
import io.granary.dataset.catalog.CatalogSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `granary stream` against a real `serve data` server on loopback. */
class StreamCliTest {

    @TempDir
    Path dir;

    @Test
    void twoRanksReadTheirHalvesAndBadStreamsAreNamed() throws Exception {
        GranaryCli granary = new GranaryCli(dir.resolve("data"));
        StringBuilder csv = new StringBuilder("user_id,country\n");
        for (int i = 0; i < 101; i++) {
            csv.append(i).append(',').append(i % 2 == 0 ? "FR" : "DE").append('\n');
        }
        Files.writeString(dir.resolve("users.csv"), csv);
        assertThat(granary.run("dataset", "create", "demo.users", "--from", dir.resolve("users.csv").toString()).code()).isZero();
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(dir.resolve("data/warehouse")));
             NodeCache cache = new NodeCache(CacheSettings.defaults(dir.resolve("data/cache")), datasets, new org.apache.hadoop.conf.Configuration());
             DataServer server = new DataServer(cache, "127.0.0.1", 0)) {
            String port = Integer.toString(server.port());
            GranaryCli.Run rank0 = granary.run("stream", "demo.users", "--rank", "0", "--world-size", "2", "--port", port);
            assertThat(rank0.code()).as(rank0.toString()).isZero();
            assertThat(rank0.out()).contains("rank 0 of 2: 51 rows").contains("the stream has 102 rows").contains("first batch after");
            Path arrow = dir.resolve("rank1.arrow");
            GranaryCli.Run rank1 = granary.run("stream", "demo.users", "--rank", "1", "--world-size", "2", "--drop-last", "--port", port,
                    "--out", arrow.toString());
            assertThat(rank1.out()).as(rank1.toString()).contains("rank 1 of 2: 50 rows").contains("written to " + arrow);
            assertThat(Files.size(arrow)).isPositive();

            GranaryCli.Run bad = granary.run("stream", "demo.users", "--batch-rows", "0", "--port", port);
            assertThat(bad.code()).isEqualTo(1);
            assertThat(bad.err()).contains("'batch_rows' must be at least 1");
            GranaryCli.Run unknown = granary.run("stream", "demo.nope", "--port", port);
            assertThat(unknown.code()).isEqualTo(1);
            assertThat(unknown.err()).contains("data server at 127.0.0.1:" + port).contains("demo.nope");

            // dynamic: a worker alone leases every unit of the epoch; a worker coming later finds it done
            GranaryCli.Run alone = granary.run("stream", "demo.users", "--mode", "dynamic", "--worker", "a", "--world-size", "2",
                    "--batch-rows", "10", "--port", port);
            assertThat(alone.out()).as(alone.toString()).contains("worker a: 101 rows").contains("the epoch has 101 rows");
            GranaryCli.Run late = granary.run("stream", "demo.users", "--mode", "dynamic", "--worker", "b", "--world-size", "2",
                    "--batch-rows", "10", "--port", port);
            assertThat(late.out()).as(late.toString()).contains("worker b: 0 rows");
            GranaryCli.Run resumed = granary.run("stream", "demo.users", "--mode", "dynamic", "--start-row", "5", "--port", port);
            assertThat(resumed.err()).contains("'start_row' does not apply to a dynamic stream");
        }
        GranaryCli.Run down = granary.run("stream", "demo.users", "--port", "1");
        assertThat(down.code()).isEqualTo(1);
        assertThat(down.err()).contains("cannot reach the data server at 127.0.0.1:1");
    }

    @Test
    void theStreamSectionOfGranaryYamlSetsWhereToConnectAndTheToken() throws Exception {
        GranaryCli granary = new GranaryCli(dir.resolve("data"));
        Files.writeString(dir.resolve("users.csv"), "user_id,country\n1,FR\n2,DE\n3,FR\n");
        assertThat(granary.run("dataset", "create", "demo.users", "--from", dir.resolve("users.csv").toString()).code()).isZero();
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(dir.resolve("data/warehouse")));
             NodeCache cache = new NodeCache(CacheSettings.defaults(dir.resolve("data/cache")), datasets, new org.apache.hadoop.conf.Configuration());
             DataServer server = new DataServer(cache, io.granary.cache.stream.StreamSettings.defaults().withListen("127.0.0.1", 0, -1)
                     .withToken(java.util.Optional.of("s3cret")))) {
            Path good = dir.resolve("good.yaml");
            Files.writeString(good, "data_dir: data\nstream:\n  port: " + server.port() + "\n  token: s3cret\n  memory: 1g\n  lease_timeout: 10s\n");
            GranaryCli.Run ok = GranaryCli.runRaw("stream", "demo.users", "--config", good.toString());
            assertThat(ok.code()).as(ok.toString()).isZero();
            assertThat(ok.out()).contains("rank 0 of 1: 3 rows");
            Path wrong = dir.resolve("wrong.yaml");
            Files.writeString(wrong, "data_dir: data\nstream:\n  port: " + server.port() + "\n  token: nope\n");
            GranaryCli.Run refused = GranaryCli.runRaw("stream", "demo.users", "--config", wrong.toString());
            assertThat(refused.code()).isEqualTo(1);
            assertThat(refused.err()).contains("wants a bearer token");
        }
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "data_dir: data\nstream:\n  memory: lots\n");
        GranaryCli.Run badMemory = GranaryCli.runRaw("stream", "demo.users", "--config", bad.toString());
        assertThat(badMemory.code()).isEqualTo(1);
        assertThat(badMemory.err()).contains("bad.yaml:3").contains("stream.memory");
        Files.writeString(bad, "data_dir: data\nstream:\n  lease: 5s\n");
        GranaryCli.Run unknownKey = GranaryCli.runRaw("stream", "demo.users", "--config", bad.toString());
        assertThat(unknownKey.err()).contains("bad.yaml:3").contains("lease_timeout");
    }
}
