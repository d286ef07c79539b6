package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.granary.feature.online.LocalRedis;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `online_store: {type: redis}` in granary.yaml: the feature commands over a real redis-server, and every bad setting named. */
class RedisCliTest {

    @TempDir
    Path dir;

    private GranaryCli.Run run(Path config, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", config.toString(), "--data-dir=" + dir.resolve("data")));
        return GranaryCli.runRaw(all.toArray(String[]::new));
    }

    private GranaryCli.Run ok(Path config, String... args) {
        GranaryCli.Run run = run(config, args);
        assertThat(run.code()).as(run.toString()).isZero();
        return run;
    }

    @Test
    void materializeGetAndVerifyOverRedis() {
        try (LocalRedis redis = LocalRedis.start(dir.resolve("redis"), Optional.of("pw"))) {
            Path config = write(dir, "granary.yaml", "online_store:", "  type: redis", "  url: " + redis.url(), "  password: pw",
                    "  key_prefix: cli-test");
            assertThat(ok(config, "config").out()).contains("online_store:\n  type: redis\n  url: " + redis.url() + "\n  password: (set)")
                    .contains("key_prefix: cli-test").doesNotContain("pw\n");
            Instant recent = Instant.now().minusSeconds(3600);
            Path stats = write(dir, "stats.csv", "user_id,event_ts,created_ts,clicks,dwell",
                    "1," + recent + "," + recent + ",7,1.5", "2," + recent + "," + recent + ",3,");
            ok(config, "dataset", "create", "demo.user_stats", "--from", stats.toString());
            Path features = write(dir, "features.yaml",
                    "entities:",
                    "  - {name: user, join_key: user_id, value_type: INT64}",
                    "feature_views:",
                    "  - name: user_stats",
                    "    entities: [user]",
                    "    ttl: 1d",
                    "    source: {dataset: demo.user_stats, timestamp_field: event_ts, created_timestamp_field: created_ts}",
                    "    features:",
                    "      - {name: clicks, dtype: INT64}",
                    "      - {name: dwell, dtype: DOUBLE}");
            ok(config, "feature", "apply", features.toString());

            assertThat(ok(config, "feature", "materialize-incremental").out()).containsPattern("user_stats +first \\(full\\) +1 +2 +2 +2");
            assertThat(ok(config, "feature", "get", "--features", "user_stats:clicks,user_stats:dwell", "--entity", "user_id=1,2,3").out())
                    .containsPattern("1 +7 +1.5").containsPattern("2 +3 +NULL_VALUE").containsPattern("3 +NOT_FOUND +NOT_FOUND");
            assertThat(ok(config, "feature", "verify-online").out()).contains("user_stats");
            assertThat(ok(config, "feature", "materialize-incremental").out()).containsPattern("user_stats +incremental +0 +0");

            assertThat(ok(config, "doctor", "--skip-spark").out()).containsPattern("ok +redis +the online store " + redis.url() + " answers");

            Path wrongPassword = write(dir, "wrong.yaml", "online_store: {type: redis, url: " + redis.url() + ", password: nope}");
            GranaryCli.Run refused = run(wrongPassword, "feature", "materialize-incremental");
            assertThat(refused.code()).as(refused.toString()).isNotZero();
            assertThat(refused.err()).contains("Redis refused Granary's credentials for the online store " + redis.url());
            assertThat(run(wrongPassword, "doctor", "--skip-spark").out()).containsPattern("FAIL +redis +Redis refused Granary's credentials");
        }
    }

    @Test
    void badOnlineStoreSettingsAreNamedAtTheirLine() {
        Path unknownType = write(dir, "type.yaml", "online_store:", "  type: cassandra");
        assertThat(run(unknownType, "config").err()).contains("unknown online_store.type 'cassandra'").contains(unknownType + ":2");
        Path pathForRedis = write(dir, "path.yaml", "online_store:", "  type: redis", "  url: redis://h:1", "  path: /x");
        assertThat(run(pathForRedis, "config").err()).contains("online_store.path is the RocksDB directory").contains(pathForRedis + ":4");
        Path both = write(dir, "both.yaml", "online_store:", "  type: redis", "  url: redis://h:1", "  cluster: [h:2]");
        assertThat(run(both, "config").err()).contains("needs exactly one of url and cluster");
        Path badUrl = write(dir, "url.yaml", "online_store:", "  type: redis", "  url: http://h:1");
        assertThat(run(badUrl, "config").err()).contains("not a redis:// or rediss:// URL").contains(badUrl + ":3");
        Path badNode = write(dir, "node.yaml", "online_store:", "  type: redis", "  cluster: [h:1, h]");
        assertThat(run(badNode, "config").err()).contains("Redis node 'h' is not HOST:PORT");
        Path redisKeyForRocks = write(dir, "rocks.yaml", "online_store:", "  url: redis://h:1");
        assertThat(run(redisKeyForRocks, "config").err()).contains("online_store.url is a Redis setting, but online_store.type is rocksdb");
        Path cluster = write(dir, "cluster.yaml", "online_store:", "  type: redis", "  cluster: [10.0.0.1:7000, 10.0.0.2:7000]",
                "  expire_after_ttl: true", "  timeout: 500ms");
        assertThat(ok(cluster, "config").out()).contains("cluster: [10.0.0.1:7000, 10.0.0.2:7000]").contains("expire_after_ttl: true")
                .contains("timeout: 500ms").contains("tls: false");
        Path tls = write(dir, "conf/tls.yaml", "online_store:", "  type: redis", "  url: redis://h:1", "  tls_ca: certs/ca.pem");
        assertThat(ok(tls, "config").out()).contains("tls: true").contains("tls_ca: " + dir.resolve("conf/certs/ca.pem"));
        Path tlsOff = write(dir, "tls-off.yaml", "online_store:", "  type: redis", "  url: redis://h:1", "  tls: false", "  tls_ca: ca.pem");
        assertThat(run(tlsOff, "config").err()).contains("online_store.tls is false, but tls_ca is set").contains(tlsOff + ":4");
    }
}
