package io.granary.bench;

import io.granary.cli.Context;
import io.granary.cli.bench.Benchmark;
import io.granary.common.AtomicFiles;
import io.granary.common.Sizes;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteResult;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.spark.SparkSessions;
import io.granary.feature.offline.LocalPointInTimeJoin;
import io.granary.feature.offline.PointInTimeJoin;
import io.granary.feature.registry.RegistryState;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.apache.spark.sql.SparkSession;

/**
 * `granary bench pit`: point-in-time correct training data for 1M entity rows against three
 * feature views holding 10M rows in all (two keyed by user, one by item, ttls 7d, 2d and none),
 * with Granary (Spark, range-partitioned merge, writing an Iceberg dataset) and with DuckDB's ASOF
 * JOIN over the same Parquet files (writing a Parquet file), in the same run. The two Granary
 * engines must agree on every row, ties included; DuckDB is only the speed peer.
 */
public final class PointInTimeBenchmark implements Benchmark {

    static final long DAY = 86_400;
    /** Runs that count, and the warm-up runs before them, of the in-process engine and of DuckDB (as JMH would, for the JVM's compiler). */
    private static final int RUNS = 5;
    private static final int WARMUPS = 3;
    static final long SPAN = 30 * DAY;
    static final Instant BASE = Instant.parse("2026-10-01T00:00:00Z");

    @Override
    public String name() {
        return "pit";
    }

    @Override
    public String description() {
        return "point-in-time retrieval: entity rows/s against DuckDB's ASOF JOIN on the same Parquet (--entities 1000000 --rows 10000000)";
    }

    @Override
    public void run(Context context, List<String> args) throws Exception {
        BenchOptions options = new BenchOptions(name(), args, Set.of("entities", "rows", "keep"));
        long entities = options.number("entities", 1_000_000);
        long rows = options.number("rows", 10_000_000);
        PrintWriter out = context.out();
        Path work = context.config().dataDir().resolve("bench/pit-" + System.currentTimeMillis());
        Files.createDirectories(work);
        CatalogSettings catalog = CatalogSettings.localHadoop(work.resolve("warehouse"));
        try (Datasets datasets = Datasets.open(catalog)) {
            out.printf("point-in-time benchmark: %,d entity rows, %,d feature rows in 3 views, %d cores%n", entities, rows,
                    Runtime.getRuntime().availableProcessors());
            long start = System.nanoTime();
            BenchData data = BenchData.create(datasets, work, "entities", entities, rows, "bench pit");
            Path userDaily = data.userDaily();
            Path itemDaily = data.itemDaily();
            Path userLong = data.userLong();
            Path entityRows = data.entities();
            RegistryState state = data.registry();
            out.printf("generated and created the datasets (%s of Parquet) in %.1f s%n", Sizes.format(data.bytes()), (System.nanoTime() - start) / 1e9);

            SparkSession spark = SparkSessions.get(context.config().spark(), catalog);
            PointInTimeJoin join = new PointInTimeJoin(spark, state);
            // warm-up: a small join, so that Spark's start and first-job costs are not counted
            join.history(datasets, DatasetRef.parse("bench.entities"), Optional.empty(), state.resolveService("all"), true,
                    DatasetName.parse("bench.warmup"), Provenance.of("bench pit", List.of()));
            start = System.nanoTime();
            WriteResult result = join.history(datasets, DatasetRef.parse("bench.entities"), Optional.empty(), state.resolveService("all"),
                    true, DatasetName.parse("bench.training"), Provenance.of("bench pit", List.of()));
            double granarySeconds = (System.nanoTime() - start) / 1e9;
            long granaryMatched = spark.sql("SELECT count(user_daily__f_double) FROM granary.bench.training").first().getLong(0);

            // the in-process engine and DuckDB take seconds, not minutes: each runs WARMUPS times (the
            // JVM compiles the join's loops over its first runs), then RUNS times; the median counts, all runs are printed
            LocalPointInTimeJoin local = new LocalPointInTimeJoin(datasets, state);
            for (int warmup = 0; warmup < WARMUPS; warmup++) {
                local.history(DatasetRef.parse("bench.entities"), Optional.empty(), state.resolveService("all"), true,
                        DatasetName.parse("bench.warmup_local" + warmup), Provenance.of("bench pit", List.of()));
            }
            double[] localRuns = new double[RUNS];
            WriteResult localResult = null;
            for (int run = 0; run < RUNS; run++) {
                start = System.nanoTime();
                localResult = local.history(DatasetRef.parse("bench.entities"), Optional.empty(), state.resolveService("all"),
                        true, DatasetName.parse("bench.training_local" + run), Provenance.of("bench pit", List.of()));
                localRuns[run] = (System.nanoTime() - start) / 1e9;
            }
            double localSeconds = median(localRuns);
            long localMatched = spark.sql("SELECT count(user_daily__f_double) FROM granary.bench.training_local0").first().getLong(0);
            long differing = spark.sql("SELECT count(*) FROM (SELECT * FROM granary.bench.training EXCEPT ALL "
                    + "SELECT * FROM granary.bench.training_local0)").first().getLong(0);
            // ties are what the engines could disagree on: rows of a view sharing a key and an event time
            List<String> ties = new java.util.ArrayList<>();
            for (String[] view : new String[][] {{"user_daily", "user_id"}, {"item_daily", "item_id"}, {"user_long", "user_id"}}) {
                long tied = spark.sql("SELECT count(*) FROM (SELECT " + view[1] + ", event_ts FROM granary.bench." + view[0]
                        + " GROUP BY " + view[1] + ", event_ts HAVING count(*) > 1)").first().getLong(0);
                ties.add(String.format(Locale.ROOT, "%s %,d", view[0], tied));
            }

            double[] duckRuns = new double[RUNS];
            long duckMatched;
            try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                 Statement statement = duck.createStatement()) {
                statement.execute("SET threads = " + Runtime.getRuntime().availableProcessors());
                statement.execute("SET temp_directory = '" + work.resolve("duckdb-tmp") + "'");
                for (int run = -WARMUPS; run < RUNS; run++) {
                    String sql = "COPY (SELECT e.*,"
                            + " CASE WHEN e.ts - a.event_ts <= INTERVAL 7 DAY THEN a.f_double END AS user_daily__f_double,"
                            + " CASE WHEN e.ts - a.event_ts <= INTERVAL 7 DAY THEN a.f_long END AS user_daily__f_long,"
                            + " CASE WHEN e.ts - b.event_ts <= INTERVAL 2 DAY THEN b.f_double END AS item_daily__f_double,"
                            + " CASE WHEN e.ts - b.event_ts <= INTERVAL 2 DAY THEN b.f_long END AS item_daily__f_long,"
                            + " c.f_double AS user_long__f_double, c.f_long AS user_long__f_long"
                            + " FROM read_parquet('" + entityRows + "') e"
                            + " ASOF LEFT JOIN read_parquet('" + userDaily + "') a ON e.user_id = a.user_id AND e.ts >= a.event_ts"
                            + " ASOF LEFT JOIN read_parquet('" + itemDaily + "') b ON e.item_id = b.item_id AND e.ts >= b.event_ts"
                            + " ASOF LEFT JOIN read_parquet('" + userLong + "') c ON e.user_id = c.user_id AND e.ts >= c.event_ts"
                            + ") TO '" + work.resolve("duckdb-out.parquet") + "' (FORMAT PARQUET)";
                    Files.deleteIfExists(work.resolve("duckdb-out.parquet"));
                    start = System.nanoTime();
                    statement.execute(sql);
                    if (run >= 0) {
                        duckRuns[run] = (System.nanoTime() - start) / 1e9;
                    }
                }
                try (ResultSet count = statement.executeQuery("SELECT count(user_daily__f_double) FROM read_parquet('"
                        + work.resolve("duckdb-out.parquet") + "')")) {
                    count.next();
                    duckMatched = count.getLong(1);
                }
            }
            double duckSeconds = median(duckRuns);
            out.println();
            out.printf(Locale.ROOT, "%-34s %12s %16s%n", "engine", "seconds", "entity rows/s");
            out.printf(Locale.ROOT, "%-34s %12.2f %,16.0f%n", "granary (Spark " + spark.version() + ", " + spark.sparkContext().master() + ")",
                    granarySeconds, result.rowsWritten() / granarySeconds);
            out.printf(Locale.ROOT, "%-34s %12.2f %,16.0f%n", "granary (in process, --engine local)", localSeconds,
                    localResult.rowsWritten() / localSeconds);
            out.printf(Locale.ROOT, "%-34s %12.2f %,16.0f%n", "duckdb ASOF JOIN", duckSeconds, entities / duckSeconds);
            out.printf(Locale.ROOT, "runs, seconds: in process %s; duckdb %s (medians above, each after %d warm-up runs; Spark: one run "
                    + "after a warm-up)%n", runs(localRuns), runs(duckRuns), WARMUPS);
            out.printf(Locale.ROOT, "time granary / duckdb: spark %.2fx, in process %.2fx; rows with a user_daily value: "
                            + "spark %,d, in process %,d, duckdb %,d; rows where the two granary engines differ: %,d%n",
                    granarySeconds / duckSeconds, localSeconds / duckSeconds, granaryMatched, localMatched, duckMatched, differing);
            out.printf(Locale.ROOT, "(key, event time) pairs with tied rows (no created time: write order decides): %s%n",
                    String.join(", ", ties));
            out.println("(DuckDB's ASOF JOIN has no rule for tied rows: it is the speed peer, not a reference for values)");
            out.println("(target: >= 1,000,000 entity rows/s)");
        } finally {
            SparkSessions.stop();
            if (!options.flag("keep")) {
                IngestBenchmark.deleteRecursively(work);
            } else {
                out.println("kept " + work);
            }
        }
    }

    static double median(double[] runs) {
        double[] sorted = runs.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    static String runs(double[] runs) {
        return String.join(" ", java.util.Arrays.stream(runs).mapToObj(run -> String.format(Locale.ROOT, "%.2f", run)).toList());
    }

    static Path writeFeatures(Path file, String key, long keys, long rows, long seed) throws Exception {
        Schema schema = new Schema(
                Types.NestedField.required(1, key, Types.LongType.get()),
                Types.NestedField.required(2, "event_ts", Types.TimestampType.withZone()),
                Types.NestedField.optional(3, "f_double", Types.DoubleType.get()),
                Types.NestedField.optional(4, "f_long", Types.LongType.get()));
        Random random = new Random(seed);
        return write(file, schema, rows, record -> {
            record.set(0, (long) random.nextInt((int) keys));
            record.set(1, time(random.nextLong(SPAN)));
            record.set(2, random.nextDouble());
            record.set(3, (long) random.nextInt(1_000_000));
        });
    }

    static Path writeEntities(Path file, long rows, long users, long items) throws Exception {
        Schema schema = new Schema(
                Types.NestedField.required(1, "user_id", Types.LongType.get()),
                Types.NestedField.required(2, "item_id", Types.LongType.get()),
                Types.NestedField.required(3, "ts", Types.TimestampType.withZone()),
                Types.NestedField.optional(4, "label", Types.BooleanType.get()));
        Random random = new Random(99);
        return write(file, schema, rows, record -> {
            record.set(0, (long) random.nextInt((int) users));
            record.set(1, (long) random.nextInt((int) items));
            record.set(2, time(SPAN / 2 + random.nextLong(SPAN / 2)));
            record.set(3, random.nextInt(20) == 0);
        });
    }

    static OffsetDateTime time(long seconds) {
        return OffsetDateTime.ofInstant(BASE.plusSeconds(seconds), ZoneOffset.UTC);
    }

    static Path write(Path file, Schema schema, long rows, java.util.function.Consumer<Record> fill) throws Exception {
        Path temporary = AtomicFiles.temporarySibling(file);
        try (FileAppender<Record> appender = Parquet.write(org.apache.iceberg.Files.localOutput(temporary.toFile()))
                .schema(schema).createWriterFunc(GenericParquetWriter::create).set("write.parquet.compression-codec", "zstd").build()) {
            GenericRecord template = GenericRecord.create(schema);
            for (long i = 0; i < rows; i++) {
                Record record = template.copy();
                fill.accept(record);
                appender.add(record);
            }
        }
        AtomicFiles.commit(temporary, file);
        return file;
    }
}
