package io.granary.bench;

import io.granary.cli.Context;
import io.granary.cli.bench.Benchmark;
import io.granary.common.AtomicFiles;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.SchemaFile;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.feature.materialize.MaterializeResult;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.LocalRedis;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.online.OnlineStoreSettings;
import io.granary.feature.online.RedisSettings;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * `granary bench online`: 5 feature views of 10 features over 1M entities, materialized into
 * RocksDB and into Redis, each served by a feature server process over gRPC and HTTP; a load
 * client in another JVM measures p50/p99/p99.9 at batch sizes 1, 10 and 100 and the peak rate of
 * 8 callers, against an empty gRPC call (the transport's floor) and against Redis itself holding
 * the same values (one hash per entity, one pipelined HMGET per entity row), in two runs; then 60
 * seconds of load while materialize-incremental runs in a loop, every answer checked for torn rows.
 */
public final class OnlineBenchmark implements Benchmark {

    static final int VIEWS = 5;
    static final int FEATURES = 10;

    @Override
    public String name() {
        return "online";
    }

    @Override
    public String description() {
        return "online serving over RocksDB and Redis, gRPC and HTTP: p50/p99/p99.9 at batch 1/10/100, peak req/s, against Redis itself; a soak under materialization (--entities 1000000 --seconds 5 --runs 2 --soak 60 --skip-redis)";
    }

    @Override
    public void run(Context context, List<String> args) throws Exception {
        BenchOptions options = new BenchOptions(name(), args, Set.of("entities", "seconds", "threads", "runs", "soak", "skip-redis", "keep"));
        long entities = options.number("entities", 1_000_000);
        int seconds = (int) options.number("seconds", 5);
        int threads = (int) options.number("threads", 8);
        int runs = (int) options.number("runs", 2);
        int soakSeconds = (int) options.number("soak", 60);
        boolean withRedis = !options.flag("skip-redis");
        PrintWriter out = context.out();
        Path work = context.config().dataDir().resolve("bench/online-" + System.currentTimeMillis());
        Files.createDirectories(work);
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(work.resolve("warehouse")));
             LocalRedis redis = withRedis ? LocalRedis.start(work.resolve("redis"), Optional.empty()) : null) {
            out.printf("online benchmark: %d views x %d features, %,d entities, %d cores%n", VIEWS, FEATURES, entities,
                    Runtime.getRuntime().availableProcessors());
            long start = System.nanoTime();
            for (int view = 0; view < VIEWS; view++) {
                Path csv = writeView(work.resolve("view" + view + ".csv"), view, 0, entities, 0);
                datasets.create(DatasetName.parse("bench.view" + view), List.of(csv), Optional.of(new SchemaFile(schema(), List.of())),
                        List.of(), WriteOptions.defaults(), Provenance.of("bench online", List.of()));
                Files.delete(csv);
            }
            out.printf("generated and ingested %,d rows in %.1f s%n", entities * VIEWS, (System.nanoTime() - start) / 1e9);

            Registry registry = new Registry(work.resolve("registry"));
            Path yaml = work.resolve("features.yaml");
            Files.writeString(yaml, definitions());
            Definitions definitions = Definitions.parse(yaml);
            DefinitionChecker.check(definitions, registry.load(), datasets);
            RegistryState state = registry.apply(definitions);
            OnlineStoreSettings rocksDb = new OnlineStoreSettings.RocksDb(work.resolve("online"));
            materialize(datasets, state, rocksDb, "RocksDB", out);
            Map<String, LauncherProcess> servers = new LinkedHashMap<>();
            Map<String, List<Map<String, Map<String, String>>>> results = new LinkedHashMap<>();
            String redisVersion = withRedis ? LocalRedis.version() : "";
            try {
                servers.put("rocksdb", startServer(work, registry, "online_store: {path: " + work.resolve("online").toAbsolutePath() + "}", out));
                if (withRedis) {
                    RedisSettings granaryOnRedis = RedisSettings.fromUrl(redis.url());
                    materialize(datasets, state, granaryOnRedis, "Redis " + redisVersion, out);
                    start = System.nanoTime();
                    loadRedis(redis.port(), entities);
                    out.printf("loaded the same values into Redis as one hash per entity (the direct peer) in %.1f s%n", (System.nanoTime() - start) / 1e9);
                    servers.put("redis", startServer(work, registry, "online_store: {type: redis, url: " + redis.url() + "}", out));
                }
                for (int run = 1; run <= runs; run++) {
                    out.printf("%nrun %d of %d%n", run, runs);
                    LauncherProcess rocks = servers.get("rocksdb");
                    measure(results, "gRPC empty call (transport floor)", work, "grpc-empty", rocks.port(), -1, entities, seconds, threads, out);
                    measure(results, "granary+RocksDB gRPC", work, "grpc", rocks.port(), httpPort(rocks), entities, seconds, threads, out);
                    measure(results, "granary+RocksDB HTTP", work, "http", httpPort(rocks), httpPort(rocks), entities, seconds, threads, out);
                    if (withRedis) {
                        LauncherProcess onRedis = servers.get("redis");
                        measure(results, "granary+Redis gRPC", work, "grpc", onRedis.port(), httpPort(onRedis), entities, seconds, threads, out);
                        measure(results, "granary+Redis HTTP", work, "http", httpPort(onRedis), httpPort(onRedis), entities, seconds, threads, out);
                        measure(results, "Redis " + redisVersion + " direct", work, "redis", redis.port(), -1, entities, seconds, threads, out);
                    }
                }
                report(out, results, threads, withRedis ? "Redis " + redisVersion + " direct" : null);
                if (soakSeconds > 0) {
                    soak(datasets, state, rocksDb, servers.get("rocksdb"), work, soakSeconds, threads, out);
                }
            } finally {
                for (LauncherProcess server : servers.values()) {
                    server.close();
                }
            }
        } finally {
            if (!options.flag("keep")) {
                IngestBenchmark.deleteRecursively(work);
            } else {
                out.println("kept " + work);
            }
        }
    }

    private static void materialize(Datasets datasets, RegistryState state, OnlineStoreSettings store, String name, PrintWriter out) {
        long start = System.nanoTime();
        try (OnlineStore writer = store.openWriter()) {
            List<MaterializeResult> results = new Materializer(datasets, state, writer).materialize(List.of(), Instant.EPOCH,
                    Instant.parse("2100-01-01T00:00:00Z"));
            long rows = results.stream().mapToLong(MaterializeResult::rowsRead).sum();
            double took = (System.nanoTime() - start) / 1e9;
            out.printf("materialized %,d rows into %s in %.1f s (%,.0f rows/s)%n", rows, name, took, rows / took);
            out.flush();
        }
    }

    /** The feature server in a process of its own, started the way users start it (the launcher's JVM flags). */
    private static LauncherProcess startServer(Path work, Registry registry, String onlineStore, PrintWriter out) throws Exception {
        Path config = Files.createTempFile(work, "serve", ".yaml");
        Files.writeString(config, "registry: {path: " + registry.dir().toAbsolutePath() + "}\n" + onlineStore + "\n");
        return LauncherProcess.start(List.of("serve", "features", "--config", config.toString(), "--port", "0", "--http-port", "0"),
                Pattern.compile("serving features: gRPC [^:]+:(\\d+).*started in (\\d+) ms"), out);
    }

    private static int httpPort(LauncherProcess server) {
        Matcher matcher = Pattern.compile("HTTP http://[^:]+:(\\d+)/").matcher(server.readyLine());
        if (!matcher.find()) {
            throw new IllegalStateException("no HTTP port in: " + server.readyLine());
        }
        return Integer.parseInt(matcher.group(1));
    }

    private static void measure(Map<String, List<Map<String, Map<String, String>>>> results, String line, Path work, String target, int port,
                                int metricsPort, long entities, int seconds, int threads, PrintWriter out) throws Exception {
        results.computeIfAbsent(line, l -> new ArrayList<>()).add(loadClient(work, line,
                List.of("target=" + target, "port=" + port, "metrics=" + metricsPort, "entities=" + entities, "seconds=" + seconds,
                        "threads=" + threads), out));
    }

    private static String ms(Map<String, String> values) {
        return values.get("p50") + "/" + values.get("p99") + "/" + values.get("p999");
    }

    private static void report(PrintWriter out, Map<String, List<Map<String, Map<String, String>>>> results, int threads, String peer) {
        out.println();
        out.println("latency, one caller, ms: p50/p99/p99.9 per run; the server's own p50/p99 from its /metrics histogram; p99 against the peer");
        for (String batch : List.of("1", "10", "100")) {
            out.printf("batch %s%n", batch);
            for (Map.Entry<String, List<Map<String, Map<String, String>>>> line : results.entrySet()) {
                StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "  %-36s", line.getKey()));
                List<Double> p99s = new ArrayList<>();
                String server = "";
                for (Map<String, Map<String, String>> run : line.getValue()) {
                    Map<String, String> values = run.get("latency batch=" + batch);
                    text.append(String.format(Locale.ROOT, " %-22s", ms(values)));
                    p99s.add(Double.parseDouble(values.get("p99")));
                    if (values.containsKey("server_p50")) {
                        server = "server " + values.get("server_p50") + "/" + values.get("server_p99");
                    }
                }
                text.append(String.format(Locale.ROOT, " %-20s", server));
                if (peer != null && !line.getKey().equals(peer) && results.containsKey(peer)) {
                    text.append(String.format(Locale.ROOT, " p99 %.2fx", ratio(p99s, results.get(peer), "latency batch=" + batch, "p99")));
                }
                out.println(text);
            }
        }
        out.printf("peak, %d callers of batch 1: requests/s per run (p99 ms)%n", threads);
        for (Map.Entry<String, List<Map<String, Map<String, String>>>> line : results.entrySet()) {
            StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "  %-36s", line.getKey()));
            List<Double> rates = new ArrayList<>();
            for (Map<String, Map<String, String>> run : line.getValue()) {
                Map<String, String> values = run.get("peak threads=" + threads);
                text.append(String.format(Locale.ROOT, " %8s (%s)", values.get("rps"), values.get("p99")));
                rates.add(Double.parseDouble(values.get("rps")));
            }
            if (peer != null && !line.getKey().equals(peer) && results.containsKey(peer)) {
                text.append(String.format(Locale.ROOT, "   %.2fx the peer's rate", ratio(rates, results.get(peer), "peak threads=" + threads, "rps")));
            }
            out.println(text);
        }
        out.println("(ratios compare the means over the runs, taken in the same runs; the spread is the runs side by side)");
        out.flush();
    }

    private static double ratio(List<Double> ours, List<Map<String, Map<String, String>>> peer, String key, String field) {
        double peerMean = peer.stream().mapToDouble(run -> Double.parseDouble(run.get(key).get(field))).average().orElse(Double.NaN);
        return ours.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN) / peerMean;
    }

    /** Entities whose view0 rows the soak rewrites each round (the soak's callers ask for these). */
    static final int SOAK_ENTITIES = 20_000;

    /**
     * 60 seconds of peak load on the RocksDB-backed server while this process appends a new round of
     * view0 for the soak's entities and runs materialize-incremental, again and again.
     */
    private static void soak(Datasets datasets, RegistryState state, OnlineStoreSettings store, LauncherProcess server,
                             Path work, int seconds, int threads, PrintWriter out) throws Exception {
        // the idle figure: the same load, nothing materializing
        int idleSeconds = Math.max(10, seconds / 3);
        out.printf("%nsoak: %d callers of batch 10 against granary+RocksDB gRPC: %d s idle, then %d s with materialize-incremental of view0 "
                + "in a loop%n", threads, idleSeconds, seconds);
        out.flush();
        Map<String, String> idle = loadClient(work, "soak (idle)", List.of("target=grpc", "port=" + server.port(), "entities=" + SOAK_ENTITIES,
                "seconds=" + idleSeconds, "threads=" + threads, "soak=10"), out).get("peak threads=" + threads);
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger rounds = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Exception> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread writer = new Thread(() -> {
            try (OnlineStore online = store.openWriter()) {
                Materializer materializer = new Materializer(datasets, state, online);
                while (!done.get()) {
                    int round = rounds.get() + 1;
                    Path csv = writeView(work.resolve("round" + round + ".csv"), 0, round, SOAK_ENTITIES, round);
                    datasets.append(io.granary.dataset.DatasetRef.latest(DatasetName.parse("bench.view0")), List.of(csv), WriteOptions.defaults(),
                            Provenance.of("bench online soak", List.of()));
                    Files.delete(csv);
                    materializer.materializeIncremental(List.of("view0"), Instant.parse("2100-01-01T00:00:00Z"));
                    rounds.set(round);
                }
            } catch (Exception e) {
                failure.set(e);
            }
        }, "granary-bench-soak-materialize");
        writer.start();
        Map<String, Map<String, String>> soak;
        try {
            soak = loadClient(work, "soak", List.of("target=grpc", "port=" + server.port(), "entities=" + SOAK_ENTITIES,
                    "seconds=" + seconds, "threads=" + threads, "soak=10"), out);
        } finally {
            done.set(true);
            writer.join();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        Map<String, String> values = soak.get("peak threads=" + threads);
        out.printf(Locale.ROOT, "idle: %s requests/s, p50/p99/p99.9 %s ms%n", idle.get("rps"), ms(idle));
        out.printf(Locale.ROOT, "soak: %s requests/s, %s errors, %s torn rows, %d rounds materialized (%s answers saw an entity's newer round); "
                        + "p50/p99/p99.9 %s ms, p99 %.2fx idle; targets: 0 errors, 0 torn, <= 2x%n",
                values.get("rps"), values.get("errors"), values.get("torn"), rounds.get(), values.get("newer"), ms(values),
                Double.parseDouble(values.get("p99")) / Double.parseDouble(idle.get("p99")));
        out.flush();
    }

    private static final Pattern RESULT = Pattern.compile("RESULT ([\\w-]+) (latency batch=\\d+|peak threads=\\d+) (.*)");

    /** Runs the load client in a JVM of its own and collects its RESULT lines: case to field to value. */
    private static Map<String, Map<String, String>> loadClient(Path work, String label, List<String> clientArgs, PrintWriter out) throws Exception {
        List<String> fields = new ArrayList<>();
        for (int view = 0; view < VIEWS; view++) {
            for (int feature = 0; feature < FEATURES; feature++) {
                fields.add("view" + view + ":f" + feature);
            }
        }
        // The client is the instrument, not the system under test: it runs the parallel collector, whose
        // short pauses come rarely with a 2 GB heap, rather than a concurrent one whose threads would take
        // the two cores from the server being measured (on ZGC the client's own collections added ~1 ms
        // to the server's p99 at batch 100). Every target is measured by the same client.
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xms2g", "-Xmx2g",
                "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"), OnlineLoadClient.class.getName()));
        command.addAll(clientArgs);
        command.add("fields=" + String.join(",", fields));
        out.printf("measuring %s from a separate JVM...%n", label);
        out.flush();
        Process client = new ProcessBuilder(command).redirectErrorStream(true).start();
        Map<String, Map<String, String>> results = new LinkedHashMap<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                Matcher matcher = RESULT.matcher(line);
                if (matcher.matches()) {
                    Map<String, String> values = new LinkedHashMap<>();
                    for (String pair : matcher.group(3).trim().split(" +")) {
                        String[] kv = pair.split("=");
                        values.put(kv[0], kv[1]);
                    }
                    results.put(matcher.group(2), values);
                } else if (!line.isBlank()) {
                    out.println("  client: " + line);
                }
            }
        }
        if (client.waitFor() != 0) {
            throw new io.granary.common.GranaryException("the " + label + " load client failed (exit " + client.exitValue() + ")",
                    "see its output above");
        }
        return results;
    }

    static Schema schema() {
        List<Types.NestedField> fields = new ArrayList<>();
        fields.add(Types.NestedField.required(1, "entity_id", Types.LongType.get()));
        fields.add(Types.NestedField.required(2, "event_ts", Types.TimestampType.withZone()));
        for (int feature = 0; feature < FEATURES; feature++) {
            fields.add(Types.NestedField.optional(3 + feature, "f" + feature, feature < FEATURES / 2 ? Types.LongType.get() : Types.DoubleType.get()));
        }
        return new Schema(fields);
    }

    /**
     * Feature {@code feature} of entity {@code id} in view {@code view} as written in materialization
     * round {@code round} (0 for the initial data): the same in the dataset and in Redis. Every INT64
     * feature tells its round, so a caller can check a row's features all come from one.
     */
    static String value(int view, long id, int feature, int round) {
        long mixed = (id * 2654435761L + view * 97L + feature * 7919L) & 0x7fffffffL;
        return feature < FEATURES / 2 ? Long.toString(round * 1_000_000L + mixed % 100_000)
                : Double.toString(round * 10_000 + (mixed % 1_000_000) / 1000.0);
    }

    static long roundOf(long int64Feature) {
        return int64Feature / 1_000_000;
    }

    /** Rows of {@code view} for entities 0..entities-1 in {@code round}; each round's rows are a minute newer than the last's. */
    private static Path writeView(Path file, int view, int round, long entities, long minutesLater) throws Exception {
        long base = Instant.parse("2026-11-01T00:00:00Z").getEpochSecond() + (round == 0 ? 0 : 86_400 + minutesLater * 60);
        AtomicFiles.write(file, stream -> {
            BufferedWriter out = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 20);
            out.write("entity_id,event_ts");
            for (int feature = 0; feature < FEATURES; feature++) {
                out.write(",f" + feature);
            }
            out.write('\n');
            StringBuilder line = new StringBuilder(160);
            for (long id = 0; id < entities; id++) {
                line.setLength(0);
                line.append(id).append(',').append(Instant.ofEpochSecond(round == 0 ? base + id % 86_400 : base));
                for (int feature = 0; feature < FEATURES; feature++) {
                    line.append(',').append(value(view, id, feature, round));
                }
                out.append(line).append('\n');
            }
            out.flush();
        });
        return file;
    }

    private static String definitions() {
        StringBuilder yaml = new StringBuilder("entities:\n  - {name: entity, join_key: entity_id, value_type: INT64}\nfeature_views:\n");
        for (int view = 0; view < VIEWS; view++) {
            yaml.append("  - name: view").append(view).append("\n    entities: [entity]\n    ttl: 0\n")
                    .append("    source: {dataset: bench.view").append(view).append(", timestamp_field: event_ts}\n    features:\n");
            for (int feature = 0; feature < FEATURES; feature++) {
                yaml.append("      - {name: f").append(feature).append(", dtype: ").append(feature < FEATURES / 2 ? "INT64" : "DOUBLE").append("}\n");
            }
        }
        yaml.append("feature_services:\n  - {name: all, features: [");
        for (int view = 0; view < VIEWS; view++) {
            yaml.append(view == 0 ? "" : ", ").append("view").append(view);
        }
        return yaml.append("]}\n").toString();
    }

    private static void loadRedis(int port, long entities) throws Exception {
        try (Resp redis = new Resp(port)) {
            int pending = 0;
            for (long id = 0; id < entities; id++) {
                List<byte[]> command = new ArrayList<>(2 + 2 * VIEWS * FEATURES);
                command.add("HSET".getBytes(StandardCharsets.US_ASCII));
                command.add(("e:" + id).getBytes(StandardCharsets.US_ASCII));
                for (int view = 0; view < VIEWS; view++) {
                    for (int feature = 0; feature < FEATURES; feature++) {
                        command.add(("view" + view + ":f" + feature).getBytes(StandardCharsets.US_ASCII));
                        command.add(value(view, id, feature, 0).getBytes(StandardCharsets.US_ASCII));
                    }
                }
                redis.send(command);
                if (++pending == 1000) {
                    redis.flush();
                    for (int i = 0; i < pending; i++) {
                        redis.readReply();
                    }
                    pending = 0;
                }
            }
            redis.flush();
            for (int i = 0; i < pending; i++) {
                redis.readReply();
            }
        }
    }
}
