package io.granary.sample;

import static io.granary.dataset.testing.TestFiles.write;

import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.testing.SharedSpark;
import io.granary.dataset.testing.TestTables;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import io.granary.sample.plan.Plan;
import io.granary.sample.run.Executor;
import io.granary.sample.run.RunRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * Small hand-checked data for sample pipelines, in a namespace of its own on the test JVM's shared
 * Spark catalog: labels (clicks of users on items), a user profile with signup dates, and daily
 * user statistics registered as feature view user_daily.
 */
final class SampleFixture implements AutoCloseable {

    final Path dir;
    final String ns;
    final Datasets datasets;
    final Registry registry;
    final SamplePipelines pipelines;
    final String pipeline;

    SampleFixture(Path dir) {
        this.dir = dir;
        this.ns = "s_" + UUID.randomUUID().toString().substring(0, 8);
        this.pipeline = "p_" + UUID.randomUUID().toString().substring(0, 8);
        this.datasets = Datasets.open(SharedSpark.catalog());
        this.registry = new Registry(dir.resolve("registry"));
        this.pipelines = new SamplePipelines(datasets, registry::load, SharedSpark::session, dir.resolve("samples"), List.of());
    }

    DatasetName name(String table) {
        return DatasetName.parse(ns + "." + table);
    }

    /** Commits CSV lines (a header first) to ns.TABLE, creating it or appending. */
    void csv(String table, String... lines) {
        TestTables.csv(datasets, dir, name(table), lines);
    }

    /**
     * Labels: {@code users} users, each with {@code perUser} clicks a day over two days, about one in
     * four clicked; user profiles signed up on day 1 at noon (users above 100 never); user_daily
     * statistics at the end of day 1.
     */
    void ctrData(int users, int perUser) {
        List<String> labels = new ArrayList<>(List.of("user_id,item_id,ts,clicked,position"));
        java.util.Random random = new java.util.Random(7);
        for (int day = 1; day <= 2; day++) {
            for (int user = 1; user <= users; user++) {
                for (int i = 0; i < perUser; i++) {
                    int second = random.nextInt(86_400);
                    labels.add(String.format("%d,%d,2026-11-0%dT%02d:%02d:%02dZ,%s,%d", user, 500 + random.nextInt(20), day, second / 3600,
                            second / 60 % 60, second % 60, random.nextInt(4) == 0, 1 + random.nextInt(10)));
                }
            }
        }
        csv("labels", labels.toArray(String[]::new));
        List<String> profile = new ArrayList<>(List.of("user_id,country,signup_ts"));
        for (int user = 1; user <= users; user++) {
            profile.add(user + "," + (user % 2 == 0 ? "de" : "us") + "," + (user <= 100 ? "2026-11-01T12:00:00Z" : "2026-12-31T00:00:00Z"));
        }
        csv("users", profile.toArray(String[]::new));
        List<String> stats = new ArrayList<>(List.of("user_id,event_ts,clicks"));
        for (int user = 1; user <= users; user++) {
            stats.add(user + ",2026-11-02T00:00:00Z," + user * 10);
        }
        csv("user_stats", stats.toArray(String[]::new));
        applyFeatures();
    }

    void applyFeatures() {
        Path yaml = write(dir, "features-" + System.nanoTime() + ".yaml",
                "entities:",
                "  - {name: user, join_key: user_id, value_type: INT64}",
                "feature_views:",
                "  - name: user_daily",
                "    entities: [user]",
                "    ttl: 2d",
                "    source: {dataset: " + ns + ".user_stats, timestamp_field: event_ts}",
                "    features: [{name: clicks, dtype: INT64}]");
        Definitions definitions = Definitions.parse(yaml);
        DefinitionChecker.check(definitions, registry.load(), datasets);
        registry.apply(definitions);
    }

    /** Writes a pipeline config with this fixture's pipeline name; {@code lines} follow "pipeline:". */
    Path config(String... lines) {
        List<String> all = new ArrayList<>(List.of("pipeline: " + pipeline));
        all.addAll(List.of(lines));
        return write(dir, "pipeline-" + System.nanoTime() + ".yaml", all.toArray(String[]::new));
    }

    /** The standard-samples config over the CTR data, with extra params lines. */
    Path ctrConfig(String... extraParams) {
        List<String> lines = new ArrayList<>(List.of(
                "template: standard-samples",
                "params:",
                "  labels: " + ns + ".labels",
                "  label_column: clicked",
                "  timestamp_column: ts",
                "  entity_keys: [user_id]",
                "  profile: " + ns + ".users",
                "  profile_time_column: signup_ts",
                "  features: [user_daily:clicks]",
                "  output: " + ns + ".samples"));
        for (String extra : extraParams) {
            lines.add("  " + extra);
        }
        return config(lines.toArray(String[]::new));
    }

    Plan plan(Path config, String... force) {
        return pipelines.plan(config, Set.of(force));
    }

    RunRecord run(Path config, String... force) {
        return pipelines.run(config, Set.of(force), Executor.Options.defaults(), line -> { });
    }

    /** Every row of ns.TABLE as Iceberg's generic records. */
    List<Record> rows(String table) {
        List<Record> rows = new ArrayList<>();
        try (CloseableIterable<Record> records = IcebergGenerics.read(datasets.load(name(table))).build()) {
            records.forEach(rows::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }

    @Override
    public void close() throws Exception {
        datasets.close();
    }
}
