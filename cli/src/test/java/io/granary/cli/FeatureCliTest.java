package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `granary feature ...` through the command line. */
class FeatureCliTest {

    @TempDir
    Path dir;

    GranaryCli granary;
    Path features;

    @BeforeEach
    void setUp() {
        granary = new GranaryCli(dir.resolve("data"));
        Instant recent = Instant.now().minusSeconds(3600);
        Path stats = write(dir, "stats.csv", "user_id,event_ts,created_ts,clicks,dwell",
                "1," + recent + "," + recent + ",7,1.5", "2," + recent + "," + recent + ",3,");
        assertThat(granary.run("dataset", "create", "demo.user_stats", "--from", stats.toString()).code()).isZero();
        features = write(dir, "features.yaml",
                "entities:",
                "  - {name: user, join_key: user_id, value_type: INT64}",
                "feature_views:",
                "  - name: user_stats",
                "    entities: [user]",
                "    ttl: 1d",
                "    source: {dataset: demo.user_stats, timestamp_field: event_ts, created_timestamp_field: created_ts}",
                "    features:",
                "      - {name: clicks, dtype: INT64}",
                "      - {name: dwell, dtype: DOUBLE}",
                "feature_services:",
                "  - {name: model_v1, features: [user_stats]}");
    }

    private GranaryCli.Run ok(String... args) {
        GranaryCli.Run run = granary.run(args);
        assertThat(run.code()).as(run.toString()).isZero();
        return run;
    }

    @Test
    void applyMaterializeAndGet() {
        assertThat(ok("feature", "diff", features.toString()).out()).contains("+ feature view user_stats (new, v1)").contains("3 changes");
        assertThat(ok("feature", "apply", features.toString()).out()).contains("applied 3 changes: registry generation 1");
        assertThat(ok("feature", "apply", features.toString()).out()).contains("nothing to change");
        assertThat(ok("feature", "list").out()).contains("user_stats").contains("2 features of demo.user_stats, ttl 1d, online");
        assertThat(ok("feature", "show", "user_stats").out()).contains("feature view user_stats v1 (of 1)").containsPattern("clicks +INT64");

        assertThat(ok("feature", "materialize-incremental").out()).containsPattern("user_stats +first \\(full\\) +1 +2 +2 +2");
        GranaryCli.Run get = ok("feature", "get", "--features", "user_stats:clicks,user_stats:dwell", "--entity", "user_id=1,2,3");
        assertThat(get.out()).containsPattern("1 +7 +1.5").containsPattern("2 +3 +NULL_VALUE").containsPattern("3 +NOT_FOUND +NOT_FOUND");
        assertThat(ok("feature", "get", "--service", "model_v1", "--entity", "user_id=1", "--full-names").out())
                .contains("user_stats__clicks").contains("user_stats__dwell");
        assertThat(ok("feature", "materialize-incremental").out()).containsPattern("user_stats +incremental +0 +0");
    }

    @Test
    void historyRunsInProcessOrOnSparkWithTheSameRows() {
        ok("feature", "apply", features.toString());
        Instant now = Instant.now();
        Path rows = write(dir, "rows.csv", "user_id,ts", "1," + now, "2," + now, "3," + now, "1," + now.minusSeconds(86_400 * 3));
        ok("dataset", "create", "demo.rows", "--from", rows.toString());

        assertThat(ok("feature", "history", "--entities", "demo.rows", "--service", "model_v1", "--out", "demo.auto").out())
                .contains("wrote demo.auto").contains("4 entity rows").contains("local engine");
        assertThat(ok("feature", "history", "--entities", "demo.rows", "--service", "model_v1", "--out", "demo.on_spark", "--engine", "spark")
                .out()).contains("spark engine");
        GranaryCli.Run differ = ok("sql", "SELECT count(*) AS differ FROM (SELECT * FROM demo.auto EXCEPT ALL SELECT * FROM demo.on_spark)");
        assertThat(differ.out()).containsPattern("differ\\s+0");
        assertThat(ok("sql", "SELECT user_id, clicks FROM demo.auto WHERE clicks IS NOT NULL ORDER BY user_id").out())
                .containsPattern("1 +7").containsPattern("2 +3").doesNotContain("3 ");

        // a column type the in-process engine does not hold: auto goes to Spark, local says why
        Path schema = write(dir, "tagged.yaml", "columns:", "  - {name: user_id, type: long}", "  - {name: ts, type: timestamptz}",
                "  - {name: tags, type: list<string>}");
        ok("dataset", "create", "demo.tagged", "--schema", schema.toString());
        ok("sql", "INSERT INTO demo.tagged VALUES (1, current_timestamp(), array('a'))");
        assertThat(ok("feature", "history", "--entities", "demo.tagged", "--service", "model_v1", "--out", "demo.tagged_auto").out())
                .contains("1 entity rows").contains("spark engine");
        GranaryCli.Run local = granary.run("feature", "history", "--entities", "demo.tagged", "--service", "model_v1",
                "--out", "demo.tagged_local", "--engine", "local");
        assertThat(local.code()).isEqualTo(Main.USER_ERROR);
        assertThat(local.err()).contains("the in-process engine cannot run this join: column tags of demo.tagged is list<string>")
                .contains("--engine spark");
    }

    @Test
    void featureErrorsAreUserErrors() {
        GranaryCli.Run unknown = granary.run("feature", "get", "--features", "user_stats:clicks", "--entity", "user_id=1");
        assertThat(unknown.code()).isEqualTo(Main.USER_ERROR);
        assertThat(unknown.err()).contains("unknown feature view 'user_stats'").contains("granary feature apply");

        Path broken = write(dir, "broken.yaml", "entities:", "  - {name: user, join_key: user_id, value_type: INT64}",
                "feature_views:", "  - name: v", "    entities: [usr]", "    source: {dataset: demo.user_stats, timestamp_field: event_ts}",
                "    features: [{name: clicks, dtype: INT64}]");
        GranaryCli.Run refused = granary.run("feature", "apply", broken.toString());
        assertThat(refused.code()).isEqualTo(Main.USER_ERROR);
        assertThat(refused.err()).contains("names unknown entity 'usr'").contains(broken + ":4");

        ok("feature", "apply", features.toString());
        assertThat(granary.run("feature", "materialize", "--start", "yesterday", "--end", "now").err()).contains("invalid time 'yesterday'");
        assertThat(granary.run("feature", "get", "--features", "user_stats:clicks", "--entity", "user_id=one").err())
                .contains("'one' is not a value of user_id (INT64)");
        assertThat(granary.run("feature", "show", "nothing").err()).contains("nothing named 'nothing'");
        assertThat(granary.run("feature", "get", "--entity", "user_id=1").code()).as("--features or --service").isEqualTo(Main.USAGE);
    }

    @Test
    void verifyOnlineFindsNoMismatchAfterAMaterializationAndExitsOneOnAPlantedValue() {
        ok("feature", "apply", features.toString());
        GranaryCli.Run never = granary.run("feature", "verify-online");
        assertThat(never.code()).isEqualTo(Main.USER_ERROR);
        assertThat(never.err()).contains("feature view user_stats has not been materialized");
        ok("feature", "materialize-incremental");

        assertThat(ok("feature", "verify-online").out()).containsPattern("user_stats .* 2 +2 +2 +0")
                .contains("the online store serves what training saw: 2 entities of 1 view checked, no mismatch");
        assertThat(ok("feature", "verify-online", "--all", "--engine", "spark").out()).contains("no mismatch");
        assertThat(ok("feature", "verify-online", "--sample", "1", "--views", "user_stats").out()).contains("1 entities of 1 view checked");

        // a value written into the store behind Granary's back
        try (var store = io.granary.feature.online.RocksDbOnlineStore.openWriter(dir.resolve("data/online"))) {
            var view = new io.granary.feature.registry.Registry(dir.resolve("data/registry")).load().featureView("user_stats");
            store.writeNewer("user_stats", java.util.List.of(io.granary.feature.online.EntityKeys.encode(java.util.List.of(2L))),
                    java.util.List.of(new io.granary.feature.online.OnlineRow(io.granary.feature.online.Layouts.id(view), Instant.now().minusSeconds(1800).toEpochMilli() * 1000,
                            0, java.util.List.of(feast.proto.types.ValueProto.Value.newBuilder().setInt64Val(33).build(),
                                    feast.proto.types.ValueProto.Value.getDefaultInstance()))), java.util.Optional.empty());
        }
        GranaryCli.Run planted = granary.run("feature", "verify-online");
        assertThat(planted.code()).isEqualTo(Main.USER_ERROR);
        assertThat(planted.out()).containsPattern("user_stats +user_id=2 +clicks +33 +3").containsPattern("user_stats .* 2 +2 +2 +1");
        assertThat(planted.err()).contains("1 of 2 entities checked are served a value other than the training data's");
        assertThat(granary.run("feature", "verify-online", "--sample", "0").err()).contains("--sample 0 checks nothing");
        assertThat(granary.run("feature", "verify-online", "--sample", "3", "--all").code()).isEqualTo(Main.USAGE);
    }
}
