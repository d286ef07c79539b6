package io.granary.bench;

import io.granary.cli.Context;
import io.granary.cli.bench.Benchmark;
import io.granary.common.AtomicFiles;
import io.granary.common.Sizes;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.SchemaFile;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.catalog.CatalogSettings;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.spark.SparkSchemaUtil;
import org.apache.iceberg.types.Types;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * `granary bench ingest`: rows/s of Granary's ingest against Spark's own
 * {@code spark.read()...writeTo(...)} of the same file into an Iceberg table, in the same JVM and
 * run: a CSV with a known schema, the same CSV with the schema inferred, and the same rows as
 * Parquet. Each side gets a warm-up run first, and a fresh table per run.
 */
public final class IngestBenchmark implements Benchmark {

    static final Schema SCHEMA = new Schema(
            Types.NestedField.optional(1, "user_id", Types.LongType.get()),
            Types.NestedField.optional(2, "item_id", Types.LongType.get()),
            Types.NestedField.optional(3, "ts", Types.TimestampType.withZone()),
            Types.NestedField.optional(4, "position", Types.LongType.get()),
            Types.NestedField.optional(5, "clicked", Types.BooleanType.get()),
            Types.NestedField.optional(6, "dwell_ms", Types.LongType.get()),
            Types.NestedField.optional(7, "score", Types.DoubleType.get()),
            Types.NestedField.optional(8, "country", Types.StringType.get()));
    private static final String[] COUNTRIES = {"de", "fr", "us", "br", "jp", "in", "mx", "kr"};

    @Override
    public String name() {
        return "ingest";
    }

    @Override
    public String description() {
        return "CSV and Parquet ingest rows/s against Spark's spark.read...writeTo of the same file (--rows 5000000 --reps 1)";
    }

    @Override
    public void run(Context context, List<String> args) throws Exception {
        BenchOptions options = new BenchOptions(name(), args, Set.of("rows", "reps", "keep"));
        long rows = options.number("rows", 5_000_000);
        int reps = (int) options.number("reps", 1);
        PrintWriter out = context.out();
        Path work = context.config().dataDir().resolve("bench/ingest-" + System.currentTimeMillis());
        Files.createDirectories(work);
        // A warehouse of the benchmark's own, removed afterwards, so user datasets are untouched.
        CatalogSettings catalog = CatalogSettings.localHadoop(work.resolve("warehouse"));
        try (Datasets datasets = Datasets.open(catalog)) {
            out.printf("ingest benchmark: %,d rows x %d columns, %d cores, heap %s%n", rows, SCHEMA.columns().size(),
                    Runtime.getRuntime().availableProcessors(), Sizes.format(Runtime.getRuntime().maxMemory()));
            long start = System.nanoTime();
            Path csv = writeCsv(work.resolve("rows.csv"), rows, 7);
            Path parquet = writeParquet(work.resolve("rows.parquet"), rows, 7);
            Path warmCsv = writeCsv(work.resolve("warm.csv"), Math.min(rows, 200_000), 8);
            Path warmParquet = writeParquet(work.resolve("warm.parquet"), Math.min(rows, 200_000), 8);
            out.printf("generated %s (%s) and %s (%s) in %.1f s%n", csv.getFileName(), Sizes.format(Files.size(csv)),
                    parquet.getFileName(), Sizes.format(Files.size(parquet)), (System.nanoTime() - start) / 1e9);
            out.flush();

            SparkSession spark = io.granary.dataset.spark.SparkSessions.get(context.config().spark(), catalog);
            Runner runner = new Runner(datasets, spark);
            runner.granaryAppend(warmCsv);
            runner.sparkCsv(warmCsv, false);
            runner.granaryAppend(warmParquet);
            runner.sparkParquet(warmParquet);

            out.printf("%n%-20s %16s %16s %14s%n", "input", "granary rows/s", "spark rows/s", "granary/spark");
            report(out, "csv, schema given", rows, reps, () -> runner.granaryAppend(csv), () -> runner.sparkCsv(csv, false));
            report(out, "csv, schema inferred", rows, reps, () -> runner.granaryCreate(csv), () -> runner.sparkCsv(csv, true));
            report(out, "parquet", rows, reps, () -> runner.granaryAppend(parquet), () -> runner.sparkParquet(parquet));
            out.println("(best of " + reps + "; each run commits " + String.format(Locale.ROOT, "%,d", rows)
                    + " rows into a fresh Iceberg v2 table, Parquet/zstd; Spark " + spark.version() + " on " + spark.sparkContext().master() + ")");
        } finally {
            io.granary.dataset.spark.SparkSessions.stop();
            if (!options.flag("keep")) {
                deleteRecursively(work);
            } else {
                out.println("kept " + work);
            }
        }
    }

    @FunctionalInterface
    private interface Timed {
        void run() throws Exception;
    }

    private static void report(PrintWriter out, String label, long rows, int reps, Timed granary, Timed spark) throws Exception {
        double granarySeconds = best(granary, reps);
        double sparkSeconds = best(spark, reps);
        out.printf(Locale.ROOT, "%-20s %,16.0f %,16.0f %13.2fx%n", label, rows / granarySeconds, rows / sparkSeconds, sparkSeconds / granarySeconds);
        out.flush();
    }

    private static double best(Timed run, int reps) throws Exception {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            long start = System.nanoTime();
            run.run();
            best = Math.min(best, (System.nanoTime() - start) / 1e9);
        }
        return best;
    }

    /** Runs each side into a fresh table. */
    private static final class Runner {
        private final Datasets datasets;
        private final SparkSession spark;
        private final StructType sparkSchema = SparkSchemaUtil.convert(SCHEMA);
        private int tables;

        Runner(Datasets datasets, SparkSession spark) {
            this.datasets = datasets;
            this.spark = spark;
        }

        private DatasetName freshTable() {
            DatasetName name = DatasetName.parse("bench.t" + (++tables));
            datasets.create(name, List.of(), Optional.of(new SchemaFile(SCHEMA, List.of())), List.of(), WriteOptions.defaults(),
                    Provenance.of("bench", List.of()));
            return name;
        }

        void granaryAppend(Path file) {
            datasets.append(DatasetRef.latest(freshTable()), List.of(file), WriteOptions.defaults(), Provenance.of("bench", List.of()));
        }

        void granaryCreate(Path file) {
            datasets.create(DatasetName.parse("bench.t" + (++tables)), List.of(file), Optional.empty(), List.of(),
                    WriteOptions.defaults(), Provenance.of("bench", List.of()));
        }

        void sparkCsv(Path file, boolean infer) throws Exception {
            var reader = spark.read().option("header", "true");
            reader = infer ? reader.option("inferSchema", "true") : reader.schema(sparkSchema);
            var frame = reader.csv(file.toString());
            if (infer) {
                frame.writeTo("granary.bench.t" + (++tables)).using("iceberg").create();
            } else {
                frame.writeTo("granary." + freshTable()).append();
            }
        }

        void sparkParquet(Path file) throws Exception {
            spark.read().parquet(file.toString()).writeTo("granary." + freshTable()).append();
        }
    }

    static Path writeCsv(Path file, long rows, long seed) throws IOException {
        Random random = new Random(seed);
        long start = Instant.parse("2026-11-01T00:00:00Z").getEpochSecond();
        AtomicFiles.write(file, stream -> {
            BufferedWriter out = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 20);
            out.write("user_id,item_id,ts,position,clicked,dwell_ms,score,country\n");
            StringBuilder line = new StringBuilder(128);
            for (long i = 0; i < rows; i++) {
                boolean clicked = random.nextInt(20) == 0;
                line.setLength(0);
                line.append(random.nextInt(1_000_000)).append(',').append(random.nextInt(100_000)).append(',')
                        .append(Instant.ofEpochSecond(start + i % 2_592_000)).append(',').append(1 + random.nextInt(10)).append(',')
                        .append(clicked).append(',');
                if (clicked) {
                    line.append(random.nextInt(60_000));
                }
                line.append(',').append(random.nextInt(1_000_000) / 1_000_000.0).append(',')
                        .append(COUNTRIES[random.nextInt(COUNTRIES.length)]).append('\n');
                out.append(line);
            }
            out.flush();
        });
        return file;
    }

    static Path writeParquet(Path file, long rows, long seed) throws IOException {
        Random random = new Random(seed);
        long start = Instant.parse("2026-11-01T00:00:00Z").getEpochSecond();
        Path temporary = AtomicFiles.temporarySibling(file);
        try (FileAppender<Record> appender = Parquet.write(org.apache.iceberg.Files.localOutput(temporary.toFile()))
                .schema(SCHEMA).createWriterFunc(GenericParquetWriter::create).set("write.parquet.compression-codec", "zstd").build()) {
            GenericRecord template = GenericRecord.create(SCHEMA);
            for (long i = 0; i < rows; i++) {
                boolean clicked = random.nextInt(20) == 0;
                Record record = template.copy();
                record.set(0, (long) random.nextInt(1_000_000));
                record.set(1, (long) random.nextInt(100_000));
                record.set(2, OffsetDateTime.ofInstant(Instant.ofEpochSecond(start + i % 2_592_000), ZoneOffset.UTC));
                record.set(3, (long) (1 + random.nextInt(10)));
                record.set(4, clicked);
                record.set(5, clicked ? (Long) (long) random.nextInt(60_000) : null);
                record.set(6, random.nextInt(1_000_000) / 1_000_000.0);
                record.set(7, COUNTRIES[random.nextInt(COUNTRIES.length)]);
                appender.add(record);
            }
        }
        AtomicFiles.commit(temporary, file);
        return file;
    }

    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
