package io.granary.bench;

import io.granary.cli.Context;
import io.granary.cli.bench.Benchmark;
import io.granary.common.Sizes;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.spark.SparkSessions;
import io.granary.feature.registry.Registry;
import io.granary.sample.SamplePipelines;
import io.granary.sample.run.Executor;
import io.granary.sample.run.RunRecord;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;
import org.apache.spark.sql.SparkSession;

/**
 * `granary bench pipeline`: the standard-samples pipeline over bench pit's data (1M label rows, 10M
 * feature rows in three views, and a profile of every user), against the same steps written by hand
 * as one Spark SQL script in the same JVM and as one DuckDB SQL script (ASOF joins) over the same
 * Parquet files; then the unchanged rerun from the command line (a fresh JVM, start included) and
 * an appended day of 100k labels (an incremental run).
 */
public final class PipelineBenchmark implements Benchmark {

    @Override
    public String name() {
        return "pipeline";
    }

    @Override
    public String description() {
        return "standard-samples vs the same steps as one Spark SQL script and one DuckDB script (--labels 1000000 --rows 10000000)";
    }

    @Override
    public void run(Context context, List<String> args) throws Exception {
        BenchOptions options = new BenchOptions(name(), args, Set.of("labels", "rows", "appended", "keep"));
        long labels = options.number("labels", 1_000_000);
        long rows = options.number("rows", 10_000_000);
        long appended = options.number("appended", 100_000);
        PrintWriter out = context.out();
        Path work = context.config().dataDir().resolve("bench/pipeline-" + System.currentTimeMillis()).toAbsolutePath();
        Files.createDirectories(work);
        CatalogSettings catalog = CatalogSettings.localHadoop(work.resolve("warehouse"));
        try (Datasets datasets = Datasets.open(catalog)) {
            out.printf("pipeline benchmark: %,d label rows, %,d feature rows in 3 views, %,d users' profiles, %d cores%n", labels, rows,
                    Math.max(1, rows / 50), Runtime.getRuntime().availableProcessors());
            long start = System.nanoTime();
            BenchData data = BenchData.create(datasets, work, "labels", labels, rows, "bench pipeline");
            long users = data.users();
            long items = data.items();
            Path userDaily = data.userDaily();
            Path itemDaily = data.itemDaily();
            Path userLong = data.userLong();
            Path labelRows = data.entities();
            Path profiles = writeProfiles(work.resolve("users.parquet"), users);
            datasets.create(DatasetName.parse("bench.users"), List.of(profiles), Optional.empty(), List.of(), WriteOptions.defaults(),
                    Provenance.of("bench pipeline", List.of()));
            Registry registry = new Registry(work.resolve("registry"));
            out.printf("generated and created the datasets (%s of Parquet) in %.1f s%n", Sizes.format(data.bytes() + Files.size(profiles)),
                    (System.nanoTime() - start) / 1e9);
            Path config = work.resolve("pipeline.yaml");
            Files.writeString(config, String.join("\n",
                    "pipeline: bench_samples",
                    "template: standard-samples",
                    "params:",
                    "  labels: bench.labels",
                    "  label_column: label",
                    "  timestamp_column: ts",
                    "  entity_keys: [user_id]",
                    "  profile: bench.users",
                    "  profile_time_column: signup_ts",
                    "  features: [user_daily, item_daily, user_long]",
                    "  full_feature_names: true",
                    "  negative_rate: 0.2",
                    "  split: {train: 0.8, validation: 0.1, test: 0.1, by: user_id}",
                    "  transforms: {user_daily__f_long_log: {op: log1p, column: user_daily__f_long}}",
                    "  seed: 42",
                    "  output: bench.samples",
                    ""));

            SparkSession spark = SparkSessions.get(context.config().spark(), catalog);
            // warm-up: Spark's first jobs (and the JVM's compiler) are not what is compared
            spark.sql("SELECT count(*) FROM granary.bench.labels WHERE label").collectAsList();
            SamplePipelines pipelines = new SamplePipelines(datasets, registry::load, () -> spark, work.resolve("samples"), List.of());
            start = System.nanoTime();
            RunRecord full = pipelines.run(config, Set.of(), Executor.Options.defaults(), line -> { });
            double pipelineSeconds = (System.nanoTime() - start) / 1e9;
            long pipelineRows = full.node("write").orElseThrow().rows();
            out.printf(Locale.ROOT, "granary sample run: %.2f s, %,d samples; per node:", pipelineSeconds, pipelineRows);
            full.nodes().forEach(node -> out.printf(Locale.ROOT, " %s %.1f s,", node.id(), node.millis() / 1000.0));
            out.println();

            start = System.nanoTime();
            long sparkRows = handWrittenSpark(spark);
            double sparkSeconds = (System.nanoTime() - start) / 1e9;

            double duckSeconds;
            long duckRows;
            try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement statement = duck.createStatement()) {
                statement.execute("SET threads = " + Runtime.getRuntime().availableProcessors());
                statement.execute("SET temp_directory = '" + work.resolve("duckdb-tmp") + "'");
                start = System.nanoTime();
                duckRows = handWrittenDuckDb(statement, work, labelRows, profiles, userDaily, itemDaily, userLong);
                duckSeconds = (System.nanoTime() - start) / 1e9;
            }

            // the unchanged rerun from the command line: a fresh JVM, its start included
            double rerunSeconds = cli(config, work, out);

            // a new day of labels: only its rows go through the row-local nodes
            Path day = writeNewDay(work.resolve("labels-day.parquet"), appended, users, items);
            datasets.append(DatasetRef.latest(DatasetName.parse("bench.labels")), List.of(day), WriteOptions.defaults(),
                    Provenance.of("bench pipeline", List.of()));
            start = System.nanoTime();
            RunRecord incremental = pipelines.run(config, Set.of(), Executor.Options.defaults(), line -> { });
            double incrementalSeconds = (System.nanoTime() - start) / 1e9;
            long incrementalNodes = incremental.nodes().stream().filter(n -> n.action().equals("INCREMENTAL")).count();
            out.printf(Locale.ROOT, "incremental run: %.2f s; per node:", incrementalSeconds);
            incremental.nodes().forEach(node -> out.printf(Locale.ROOT, " %s %s %.1f s,", node.id(), node.action().toLowerCase(Locale.ROOT),
                    node.millis() / 1000.0));
            out.println();

            out.println();
            out.printf(Locale.ROOT, "%-52s %10s %12s %8s%n", "", "seconds", "samples", "ratio");
            out.printf(Locale.ROOT, "%-52s %10.2f %,12d %8s%n", "granary sample run (standard-samples, 8 nodes)", pipelineSeconds, pipelineRows, "1.00x");
            out.printf(Locale.ROOT, "%-52s %10.2f %,12d %7.2fx%n", "the same steps by hand: one Spark SQL script", sparkSeconds, sparkRows,
                    pipelineSeconds / sparkSeconds);
            out.printf(Locale.ROOT, "%-52s %10.2f %,12d %7.2fx%n", "the same steps by hand: one DuckDB script (ASOF JOIN)", duckSeconds, duckRows,
                    pipelineSeconds / duckSeconds);
            out.printf(Locale.ROOT, "%-52s %10.2f %12s %8s%n", "unchanged rerun from the CLI (fresh JVM, start included)", rerunSeconds, "-", "");
            out.printf(Locale.ROOT, "%-52s %10.2f %12s %7.2fx%n", String.format(Locale.ROOT, "after %,d appended labels (%d nodes incremental)",
                    appended, incrementalNodes), incrementalSeconds, "-", incrementalSeconds / pipelineSeconds);
            out.println("(ratios: time of the pipeline over each peer's; the last, the incremental run's time over the full run's)");
            out.println("(targets: pipeline <= 1.0x the Spark script, unchanged rerun <= 3 s, appended day <= 0.20x the full run)");
        } finally {
            SparkSessions.stop();
            if (!options.flag("keep")) {
                IngestBenchmark.deleteRecursively(work);
            } else {
                out.println("kept " + work);
            }
        }
    }

    /** users.parquet: each user's country and signup time (some within the labels' month, so the as-of join has work to do). */
    private static Path writeProfiles(Path file, long users) throws Exception {
        Schema schema = new Schema(
                Types.NestedField.required(1, "user_id", Types.LongType.get()),
                Types.NestedField.optional(2, "country", Types.StringType.get()),
                Types.NestedField.optional(3, "signup_ts", Types.TimestampType.withZone()));
        String[] countries = {"us", "de", "fr", "jp", "br", "in"};
        Random random = new Random(11);
        long[] next = {0};
        return PointInTimeBenchmark.write(file, schema, users, record -> {
            record.set(0, next[0]++);
            record.set(1, countries[random.nextInt(countries.length)]);
            record.set(2, PointInTimeBenchmark.time(random.nextLong(2 * PointInTimeBenchmark.SPAN) - PointInTimeBenchmark.SPAN));
        });
    }

    /** A day of labels after the others. */
    private static Path writeNewDay(Path file, long rows, long users, long items) throws Exception {
        Schema schema = new Schema(
                Types.NestedField.required(1, "user_id", Types.LongType.get()),
                Types.NestedField.required(2, "item_id", Types.LongType.get()),
                Types.NestedField.required(3, "ts", Types.TimestampType.withZone()),
                Types.NestedField.optional(4, "label", Types.BooleanType.get()));
        Random random = new Random(98);
        return PointInTimeBenchmark.write(file, schema, rows, record -> {
            record.set(0, (long) random.nextInt((int) users));
            record.set(1, (long) random.nextInt((int) items));
            record.set(2, PointInTimeBenchmark.time(PointInTimeBenchmark.SPAN + random.nextLong(PointInTimeBenchmark.DAY)));
            record.set(3, random.nextInt(20) == 0);
        });
    }

    /**
     * The pipeline's steps as one Spark SQL script, written by hand the way a Spark expert would: each
     * as-of join as a union of label and source rows with last(... ignore nulls) over a window per key
     * (ties by the source's write order, as Granary's), then sampling and the split from hashes, and
     * one Iceberg table per split from a cached result. Returns the samples written.
     */
    private static long handWrittenSpark(SparkSession spark) {
        spark.sql("CREATE OR REPLACE TEMP VIEW e AS SELECT *, monotonically_increasing_id() AS rid FROM granary.bench.labels");
        spark.sql(asOf("p", "e", "user_id", "granary.bench.users", "signup_ts", List.of("country"), 0));
        spark.sql(asOf("ud", "e", "user_id", "granary.bench.user_daily", "event_ts", List.of("f_double", "f_long"), 7 * 86_400));
        spark.sql(asOf("itm", "e", "item_id", "granary.bench.item_daily", "event_ts", List.of("f_double", "f_long"), 2 * 86_400));
        spark.sql(asOf("ul", "e", "user_id", "granary.bench.user_long", "event_ts", List.of("f_double", "f_long"), 0));
        spark.sql("CACHE TABLE samples AS SELECT e.user_id, e.item_id, e.ts, e.label, p.country, "
                + "ud.f_double AS user_daily__f_double, ud.f_long AS user_daily__f_long, itm.f_double AS item_daily__f_double, "
                + "itm.f_long AS item_daily__f_long, ul.f_double AS user_long__f_double, ul.f_long AS user_long__f_long, "
                + "CASE WHEN e.label THEN 1.0 ELSE 5.0 END AS weight, log1p(ud.f_long) AS user_daily__f_long_log, "
                + "CASE WHEN pmod(xxhash64(42L, e.user_id), 9007199254740992) / 9007199254740992.0 < 0.8 THEN 'train' "
                + "WHEN pmod(xxhash64(42L, e.user_id), 9007199254740992) / 9007199254740992.0 < 0.9 THEN 'validation' ELSE 'test' END AS split "
                + "FROM e JOIN p USING (rid) JOIN ud USING (rid) JOIN itm USING (rid) JOIN ul USING (rid) "
                + "WHERE e.label OR pmod(xxhash64(42L, e.user_id, e.item_id, e.ts, e.label), 9007199254740992) / 9007199254740992.0 < 0.2");
        long written = 0;
        for (String split : List.of("train", "validation", "test")) {
            spark.sql("CREATE TABLE granary.bench.spark_" + split + " USING iceberg AS SELECT * EXCEPT (split) FROM samples WHERE split = '"
                    + split + "'");
            written += spark.sql("SELECT count(*) FROM granary.bench.spark_" + split).first().getLong(0);
        }
        spark.sql("UNCACHE TABLE samples");
        return written;
    }

    /** A temp view {@code name}(rid, columns...): each label row's latest source row at or before its time, within ttl seconds (0: none). */
    private static String asOf(String name, String labels, String key, String source, String time, List<String> columns, long ttl) {
        String structFields = String.join(", ", columns.stream().map(c -> "'" + c + "', " + c).toList());
        String nulls = String.join(", ", columns.stream().map(c -> "CAST(NULL AS " + ("country".equals(c) ? "STRING" : c.equals("f_long") ? "BIGINT" : "DOUBLE")
                + ") AS " + c).toList());
        String picked = String.join(", ", columns.stream().map(c -> "CASE WHEN " + (ttl > 0 ? "unix_seconds(t) - unix_seconds(last.t) <= " + ttl
                : "last.t IS NOT NULL") + " THEN last." + c + " END AS " + c).toList());
        return "CREATE OR REPLACE TEMP VIEW " + name + " AS SELECT rid, " + picked + " FROM ("
                + "SELECT rid, t, kind, last(CASE WHEN kind = 0 THEN named_struct('t', t, " + structFields + ") END, true) OVER ("
                + "PARTITION BY k ORDER BY t, kind, file_rank, pos ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last FROM ("
                + "SELECT " + key + " AS k, " + time + " AS t, 0 AS kind, CAST(NULL AS BIGINT) AS rid, " + String.join(", ", columns)
                + ", _file AS file_rank, _pos AS pos FROM " + source
                + " UNION ALL SELECT " + key + ", ts, 1, rid, " + nulls + ", '', 0 FROM " + labels + ")) WHERE kind = 1";
    }

    /** The same steps as one DuckDB script over the Parquet files (ASOF LEFT JOINs); returns the samples written. */
    private static long handWrittenDuckDb(Statement statement, Path work, Path labels, Path users, Path userDaily, Path itemDaily, Path userLong)
            throws Exception {
        statement.execute("CREATE TEMP TABLE samples AS SELECT e.user_id, e.item_id, e.ts, e.label, p.country, "
                + "CASE WHEN e.ts - a.event_ts <= INTERVAL 7 DAY THEN a.f_double END AS user_daily__f_double, "
                + "CASE WHEN e.ts - a.event_ts <= INTERVAL 7 DAY THEN a.f_long END AS user_daily__f_long, "
                + "CASE WHEN e.ts - b.event_ts <= INTERVAL 2 DAY THEN b.f_double END AS item_daily__f_double, "
                + "CASE WHEN e.ts - b.event_ts <= INTERVAL 2 DAY THEN b.f_long END AS item_daily__f_long, "
                + "c.f_double AS user_long__f_double, c.f_long AS user_long__f_long, "
                + "CASE WHEN e.label THEN 1.0 ELSE 5.0 END AS weight, "
                + "ln(1 + CASE WHEN e.ts - a.event_ts <= INTERVAL 7 DAY THEN a.f_long END) AS user_daily__f_long_log, "
                + "CASE WHEN hash(42, e.user_id) % 1000 < 800 THEN 'train' WHEN hash(42, e.user_id) % 1000 < 900 THEN 'validation' ELSE 'test' END AS split "
                + "FROM read_parquet('" + labels + "') e "
                + "ASOF LEFT JOIN read_parquet('" + users + "') p ON e.user_id = p.user_id AND e.ts >= p.signup_ts "
                + "ASOF LEFT JOIN read_parquet('" + userDaily + "') a ON e.user_id = a.user_id AND e.ts >= a.event_ts "
                + "ASOF LEFT JOIN read_parquet('" + itemDaily + "') b ON e.item_id = b.item_id AND e.ts >= b.event_ts "
                + "ASOF LEFT JOIN read_parquet('" + userLong + "') c ON e.user_id = c.user_id AND e.ts >= c.event_ts "
                + "WHERE e.label OR hash(42, e.user_id, e.item_id, e.ts) % 1000 < 200");
        long written = 0;
        for (String split : List.of("train", "validation", "test")) {
            statement.execute("COPY (SELECT * EXCLUDE (split) FROM samples WHERE split = '" + split + "') TO '" + work.resolve("duck-" + split
                    + ".parquet") + "' (FORMAT PARQUET, COMPRESSION ZSTD)");
            try (ResultSet count = statement.executeQuery("SELECT count(*) FROM read_parquet('" + work.resolve("duck-" + split + ".parquet") + "')")) {
                count.next();
                written += count.getLong(1);
            }
        }
        return written;
    }

    /** Seconds of `granary sample run CONFIG` in a process of its own (the launcher, as a user runs it), which must skip every node. */
    private static double cli(Path config, Path work, PrintWriter out) throws Exception {
        String home = System.getenv("GRANARY_HOME");
        if (home == null) {
            out.println("(GRANARY_HOME is not set: run through ./granary bench for the command-line rerun)");
            return Double.NaN;
        }
        boolean archived = Files.exists(Path.of(home, "cli/target/cli.jsa"));
        out.println("command-line rerun " + (archived ? "with" : "WITHOUT")
                + " the class-data archive that the first `granary demo` after a build writes (cli/target/cli.jsa)");
        Path granaryConfig = work.resolve("granary.yaml");
        Files.writeString(granaryConfig, "data_dir: " + work + "\ncatalog: {warehouse: " + work.resolve("warehouse") + "}\n"
                + "samples: {path: " + work.resolve("samples") + "}\n");
        List<String> command = new ArrayList<>(List.of(Path.of(home, "granary").toString(), "sample", "run", config.toString(),
                "--config", granaryConfig.toString()));
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0 || !output.contains("0 to run")) {
            throw new IllegalStateException("the command-line rerun did not skip every node:\n" + output);
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
