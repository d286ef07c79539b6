package io.granary.bench;

import io.granary.cache.CacheSettings;
import io.granary.cache.NodeCache;
import io.granary.cache.stage.SnapshotFiles;
import io.granary.cli.Context;
import io.granary.cli.bench.Benchmark;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.packer.PackOptions;
import io.granary.packer.Packer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.parquet.ParquetUtil;
import org.apache.iceberg.types.Types;

/**
 * `granary bench stream`: a table of fixed-width and string columns (--gb, 2 by default) and a
 * packed media set (--media-mb) staged in a node cache, served by `granary serve data` in its own
 * process and read by a consumer in another JVM on loopback, against that consumer reading the
 * same cached files itself (Arrow's Dataset module, native Parquet; a plain read for the shards).
 * Then dynamic mode with one of 4 workers slowed 3x against the ideal epoch and against static.
 */
public final class StreamBenchmark implements Benchmark {

    private static final Schema WIDE = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.required(2, "user_id", Types.LongType.get()),
            Types.NestedField.required(3, "ts", Types.TimestampType.withZone()),
            Types.NestedField.required(4, "f1", Types.DoubleType.get()),
            Types.NestedField.required(5, "f2", Types.DoubleType.get()),
            Types.NestedField.required(6, "f3", Types.DoubleType.get()),
            Types.NestedField.required(7, "f4", Types.DoubleType.get()),
            Types.NestedField.required(8, "label", Types.IntegerType.get()),
            Types.NestedField.optional(9, "country", Types.StringType.get()),
            Types.NestedField.optional(10, "query", Types.StringType.get()));
    private static final String FIXED = "id,user_id,ts,f1,f2,f3,f4,label";
    /** Bytes a row takes in Arrow: 7 x 8 + 4 fixed, 2 + 24 string bytes and two 4-byte offsets, validity bits. */
    private static final int ROW_BYTES = 100;
    private static final String[] COUNTRIES = {"FR", "DE", "US", "GB", "JP", "BR", "IN", "ES"};

    @Override
    public String name() {
        return "stream";
    }

    @Override
    public String description() {
        return "Arrow streams over Flight on loopback vs the consumer reading the Parquet itself (Arrow Dataset), dynamic vs static with a slow worker (--gb 2 --media-mb 512)";
    }

    @Override
    public void run(Context context, List<String> args) throws Exception {
        BenchOptions options = new BenchOptions(name(), args, Set.of("gb", "media-mb", "keep", "skip-media", "skip-dynamic"));
        double gb = options.decimal("gb", 2);
        long mediaMb = options.number("media-mb", 512);
        PrintWriter out = context.out();
        Path work = context.config().dataDir().resolve("bench/stream-" + System.currentTimeMillis()).toAbsolutePath();
        Files.createDirectories(work);
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(work.resolve("warehouse")))) {
            long rows = (long) (gb * 1e9 / ROW_BYTES);
            long start = System.nanoTime();
            writeWide(datasets, work.resolve("wide"), rows);
            out.printf(Locale.ROOT, "generated bench.wide: %,d rows (%s, %.1f GB in Arrow) in %.1f s%n", rows, FIXED + ",country,query",
                    rows * (double) ROW_BYTES / 1e9, (System.nanoTime() - start) / 1e9);
            writeUnits(datasets, work.resolve("units"));
            if (!options.flag("skip-media")) {
                start = System.nanoTime();
                packMedia(datasets, work, mediaMb);
                out.printf(Locale.ROOT, "packed bench.media: %d MB of 256 KiB .wav + .json samples in %.1f s%n", mediaMb, (System.nanoTime() - start) / 1e9);
            }
            out.flush();
            CacheSettings settings = CacheSettings.defaults(work.resolve("cache"));
            Map<String, List<String>> cached = new LinkedHashMap<>();
            try (NodeCache cache = new NodeCache(settings, datasets, new org.apache.hadoop.conf.Configuration())) {
                for (String dataset : options.flag("skip-media") ? List.of("bench.wide", "bench.units") : List.of("bench.wide", "bench.units", "bench.media")) {
                    SnapshotFiles files = cache.resolve(DatasetRef.parse(dataset));
                    cache.stage(files, settings.parallel(), false, java.util.Optional.empty());
                    List<String> paths = new ArrayList<>();
                    for (SnapshotFiles.Remote file : files.remote()) {
                        if (!file.kind().equals("index")) {
                            paths.add(cache.entryFiles().path(file.entryId()).toString());
                        }
                    }
                    cached.put(dataset, paths);
                }
            }
            out.println("staged into the node cache " + settings.root() + "; both peers read its files (in the page cache after a warm-up run)");
            Path config = work.resolve("serve.yaml");
            Files.writeString(config, "catalog: {type: hadoop, warehouse: " + work.resolve("warehouse") + "}\ncache: {root: " + settings.root()
                    + "}\nstream: {memory: 6g}\n");
            Path wideFiles = Files.write(work.resolve("wide.files"), cached.get("bench.wide"));
            Map<String, Map<String, String>> results = new LinkedHashMap<>();
            try (LauncherProcess server = LauncherProcess.start(List.of("serve", "data", "--config", config.toString(), "--port", "0", "--http-port", "0"),
                    Pattern.compile("serving data: Arrow Flight grpc\\+tcp://[^:]+:(\\d+).*started in (\\d+) ms"), out)) {
                int port = server.port();
                results.put("flight fixed", client(out, "flight", String.valueOf(port),
                        "{\"dataset\": \"bench.wide\", \"columns\": [" + quoted(FIXED) + "]}"));
                results.put("direct fixed", client(out, "direct", wideFiles.toString(), FIXED));
                results.put("flight all", client(out, "flight", String.valueOf(port), "{\"dataset\": \"bench.wide\"}"));
                results.put("direct all", client(out, "direct", wideFiles.toString(), "*"));
                if (!options.flag("skip-media")) {
                    Path shardFiles = Files.write(work.resolve("media.files"), cached.get("bench.media"));
                    results.put("flight media", client(out, "flight", String.valueOf(port), "{\"dataset\": \"bench.media\", \"batch_rows\": 256}"));
                    results.put("files media", client(out, "files", shardFiles.toString()));
                }
                try (RawFlightServer raw = new RawFlightServer()) {
                    results.put("flight raw", client(out, "raw", String.valueOf(raw.port()), String.valueOf(Math.max(16, rows * 61 / (4L << 20)))));
                }
                if (!options.flag("skip-dynamic")) {
                    String request = "{\"dataset\": \"bench.units\", \"world_size\": 4, \"batch_rows\": 8192, \"columns\": [\"id\", \"f1\"]";
                    results.put("dynamic", client(out, "workers", String.valueOf(port), request + ", \"mode\": \"dynamic\"}", "2000", "3"));
                    results.put("static", client(out, "workers", String.valueOf(port), request + "}", "2000", "3"));
                }
            }
            report(out, results, options.flag("skip-media"), options.flag("skip-dynamic"));
        } finally {
            if (!options.flag("keep")) {
                IngestBenchmark.deleteRecursively(work);
            } else {
                out.println("kept " + work);
            }
        }
    }

    private static String quoted(String columns) {
        return String.join(", ", java.util.Arrays.stream(columns.split(",")).map(c -> "\"" + c + "\"").toList());
    }

    private static void report(PrintWriter out, Map<String, Map<String, String>> r, boolean skipMedia, boolean skipDynamic) {
        out.println();
        out.printf("%-22s %10s %10s %14s%n", "case", "MB/s", "rows", "first batch ms");
        for (Map.Entry<String, Map<String, String>> entry : r.entrySet()) {
            if (entry.getValue().containsKey("mbps")) {
                out.printf("%-22s %10s %10s %14s%n", entry.getKey(), entry.getValue().get("mbps"), entry.getValue().get("rows"),
                        entry.getValue().get("first_ms"));
            }
        }
        double fixed = ratio(r, "flight fixed", "direct fixed");
        double all = ratio(r, "flight all", "direct all");
        out.printf(Locale.ROOT, "flight / direct read (Arrow Dataset, native Parquet): fixed-width %.2fx, all columns %.2fx (target >= 1.0x)%n", fixed, all);
        out.printf(Locale.ROOT, "fixed-width over loopback: %.2f GB/s (target >= 2 GB/s); first batch %s ms (target <= 100 ms)%n",
                Double.parseDouble(r.get("flight fixed").get("mbps")) / 1000, r.get("flight fixed").get("first_ms"));
        out.printf(Locale.ROOT, "Arrow Flight itself on this machine (a prepared 4 MiB batch sent again and again, nothing read): %.2f GB/s; "
                + "the fixed-width stream reaches %.2fx of it%n", Double.parseDouble(r.get("flight raw").get("mbps")) / 1000, ratio(r, "flight fixed", "flight raw"));
        if (!skipMedia) {
            out.printf(Locale.ROOT, "packed media: %.2fx a plain read of its shards%n", ratio(r, "flight media", "files media"));
        }
        if (!skipDynamic) {
            Map<String, String> dynamic = r.get("dynamic");
            Map<String, String> fixedShares = r.get("static");
            long rows = Long.parseLong(dynamic.get("rows"));
            // 3 workers at 2 us a row and one at 6 us: together 3/2 + 1/6 rows per us
            double ideal = rows / (3 / 2000e-9 + 1 / 6000e-9);
            out.printf(Locale.ROOT, "4 workers, one slowed 3x (2 us a row, 6 us): dynamic %.2f s = %.2fx the ideal %.2f s (target <= 1.15x), rows per worker %s; "
                            + "static %.2f s = %.2fx%n", Double.parseDouble(dynamic.get("seconds")), Double.parseDouble(dynamic.get("seconds")) / ideal, ideal,
                    dynamic.get("per_worker"), Double.parseDouble(fixedShares.get("seconds")), Double.parseDouble(fixedShares.get("seconds")) / ideal);
        }
    }

    private static double ratio(Map<String, Map<String, String>> r, String ours, String peer) {
        return Double.parseDouble(r.get(ours).get("mbps")) / Double.parseDouble(r.get(peer).get("mbps"));
    }

    private static final Pattern RESULT = Pattern.compile("RESULT (\\w+) (.*)");

    private static Map<String, String> client(PrintWriter out, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xms2g", "-Xmx2g",
                "-XX:+UseParallelGC", "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Dio.netty.tryReflectionSetAccessible=true",
                "-cp", System.getProperty("java.class.path"), StreamReadClient.class.getName()));
        command.addAll(List.of(args));
        Process client = new ProcessBuilder(command).redirectErrorStream(true).start();
        Map<String, String> values = new LinkedHashMap<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                Matcher matcher = RESULT.matcher(line);
                if (matcher.matches()) {
                    for (String pair : matcher.group(2).split(" ")) {
                        String[] kv = pair.split("=");
                        values.put(kv[0], kv[1]);
                    }
                    out.println("  " + args[0] + " " + (args.length > 2 ? args[2] : args[1]) + ": " + matcher.group(2));
                } else if (!line.isBlank() && !line.contains("SLF4J")) {
                    out.println("  client: " + line);
                }
            }
        }
        out.flush();
        if (client.waitFor() != 0 || values.isEmpty()) {
            throw new GranaryException("the stream benchmark's " + args[0] + " client failed (exit " + client.exitValue() + ")", "see its output above");
        }
        return values;
    }

    /** bench.wide: files of about 2M rows written on all cores, committed as one snapshot. */
    private static void writeWide(Datasets datasets, Path dir, long rows) throws Exception {
        Files.createDirectories(dir);
        long perFile = 2_000_000;
        int files = (int) Math.max(1, (rows + perFile - 1) / perFile);
        ExecutorService threads = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        try {
            List<Future<Path>> written = new ArrayList<>();
            for (int f = 0; f < files; f++) {
                int file = f;
                long count = Math.min(perFile, rows - file * perFile);
                written.add(threads.submit(() -> {
                    Random random = new Random(file);
                    OffsetDateTime base = OffsetDateTime.of(2026, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
                    long[] id = {file * perFile};
                    return PointInTimeBenchmark.write(dir.resolve("part-" + file + ".parquet"), WIDE, count, record -> {
                        record.set(0, id[0]++);
                        record.set(1, (long) random.nextInt(1_000_000));
                        record.set(2, base.plusSeconds(id[0]));
                        record.set(3, random.nextDouble());
                        record.set(4, random.nextGaussian());
                        record.set(5, random.nextDouble() * 100);
                        record.set(6, (double) random.nextInt(1000));
                        record.set(7, random.nextInt(2));
                        record.set(8, COUNTRIES[random.nextInt(COUNTRIES.length)]);
                        record.set(9, Long.toString(random.nextLong() & Long.MAX_VALUE, 36) + Long.toString(random.nextLong() & Long.MAX_VALUE, 36));
                    });
                }));
            }
            List<Path> paths = new ArrayList<>();
            for (Future<Path> f : written) {
                paths.add(f.get());
            }
            register(datasets, "bench.wide", WIDE, paths);
        } finally {
            threads.shutdownNow();
            threads.awaitTermination(1, TimeUnit.MINUTES);
        }
    }

    /** bench.units: 64 files of 50,000 rows, one row group each: the units dynamic mode leases. */
    private static void writeUnits(Datasets datasets, Path dir) throws Exception {
        Files.createDirectories(dir);
        Schema schema = new Schema(Types.NestedField.required(1, "id", Types.LongType.get()), Types.NestedField.required(2, "f1", Types.DoubleType.get()));
        List<Path> paths = new ArrayList<>();
        for (int f = 0; f < 64; f++) {
            long[] id = {f * 50_000L};
            paths.add(PointInTimeBenchmark.write(dir.resolve("part-" + f + ".parquet"), schema, 50_000, record -> {
                record.set(0, id[0]);
                record.set(1, (double) id[0]++);
            }));
        }
        register(datasets, "bench.units", schema, paths);
    }

    private static void register(Datasets datasets, String name, Schema schema, List<Path> paths) {
        DatasetName dataset = DatasetName.parse(name);
        Table table = datasets.createEmpty(dataset, schema, Map.of());
        List<DataFile> files = new ArrayList<>();
        for (Path path : paths) {
            files.add(DataFiles.builder(PartitionSpec.unpartitioned()).withPath(path.toString()).withFormat(FileFormat.PARQUET)
                    .withFileSizeInBytes(path.toFile().length())
                    .withMetrics(ParquetUtil.fileMetrics(org.apache.iceberg.Files.localInput(path.toFile()), MetricsConfig.forTable(table)))
                    .build());
        }
        datasets.appendDataFiles(dataset, files, Provenance.of("bench stream", List.of()), Map.of());
    }

    /** bench.media: 256 KiB .wav (random bytes) and a small .json per sample, packed into 64 MiB shards. */
    private static void packMedia(Datasets datasets, Path work, long megabytes) throws Exception {
        Path source = work.resolve("media-src");
        Random random = new Random(3);
        int samples = (int) (megabytes * 4);
        byte[] wav = new byte[256 << 10];
        for (int s = 0; s < samples; s++) {
            Path dir = source.resolve("spk" + (s % 40));
            Files.createDirectories(dir);
            random.nextBytes(wav);
            Files.write(dir.resolve("utt" + s + ".wav"), wav);
            Files.writeString(dir.resolve("utt" + s + ".json"), "{\"speaker\": " + (s % 40) + ", \"seconds\": " + random.nextInt(20) + "}");
        }
        new Packer(datasets, false).pack(PackOptions.builder(source, work.resolve("media-shards")).dataset(DatasetName.parse("bench.media"))
                .shardBytes(64L << 20).build());
        IngestBenchmark.deleteRecursively(source);
    }
}
