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
import io.granary.feature.online.RocksDbOnlineStore;
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
 * RocksDB and served over gRPC; a load client in another JVM measures p50/p99/p99.9 at batch sizes
 * 1, 10 and 100 and the peak request rate, and does the same against Redis 7 holding the same
 * values (one hash per entity, one pipelined HMGET per entity row).
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
        return "online feature serving over gRPC: p50/p99/p99.9 at batch 1/10/100 and peak req/s, against Redis (--entities 1000000 --seconds 8)";
    }

    @Override
    public void run(Context context, List<String> args) throws Exception {
        BenchOptions options = new BenchOptions(name(), args, Set.of("entities", "seconds", "threads", "skip-redis", "keep"));
        long entities = options.number("entities", 1_000_000);
        int seconds = (int) options.number("seconds", 8);
        int threads = (int) options.number("threads", 8);
        PrintWriter out = context.out();
        Path work = context.config().dataDir().resolve("bench/online-" + System.currentTimeMillis());
        Files.createDirectories(work);
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(work.resolve("warehouse")))) {
            out.printf("online benchmark: %d views x %d features, %,d entities, %d cores%n", VIEWS, FEATURES, entities,
                    Runtime.getRuntime().availableProcessors());
            long start = System.nanoTime();
            for (int view = 0; view < VIEWS; view++) {
                Path csv = writeView(work.resolve("view" + view + ".csv"), view, entities);
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
            Path online = work.resolve("online");
            start = System.nanoTime();
            try (RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(online)) {
                List<MaterializeResult> results = new Materializer(datasets, state, writer).materialize(List.of(), Instant.EPOCH,
                        Instant.parse("2100-01-01T00:00:00Z"));
                long rows = results.stream().mapToLong(MaterializeResult::rowsRead).sum();
                double took = (System.nanoTime() - start) / 1e9;
                out.printf("materialized %,d rows into RocksDB in %.1f s (%,.0f rows/s)%n", rows, took, rows / took);
            }
            out.flush();

            Map<String, Map<String, String>> granary;
            Map<String, Map<String, String>> transport;
            Path config = work.resolve("serve.yaml");
            Files.writeString(config, "registry: {path: " + registry.dir().toAbsolutePath() + "}\nonline_store: {path: " + online.toAbsolutePath() + "}\n");
            // the feature server in a process of its own, started the way users start it (the launcher's JVM flags)
            try (LauncherProcess server = LauncherProcess.start(List.of("serve", "features", "--config", config.toString(), "--port", "0",
                    "--http-port", "0"), Pattern.compile("serving features: gRPC [^:]+:(\\d+).*started in (\\d+) ms"), out)) {
                transport = loadClient(work, "grpc-empty", server.port(), entities, seconds, threads, out);
                granary = loadClient(work, "grpc", server.port(), entities, seconds, threads, out);
            }
            Map<String, Map<String, String>> redis = null;
            String redisVersion = "";
            if (!options.flag("skip-redis")) {
                try (RedisServer server = RedisServer.start(work, out)) {
                    redisVersion = server.version();
                    start = System.nanoTime();
                    loadRedis(server.port, entities);
                    out.printf("loaded the same values into Redis %s in %.1f s%n", redisVersion, (System.nanoTime() - start) / 1e9);
                    out.flush();
                    redis = loadClient(work, "redis", server.port, entities, seconds, threads, out);
                }
            }
            report(out, granary, redis, redisVersion, threads);
            Map<String, String> empty = transport.get("latency batch=1");
            out.printf("(gRPC itself, an empty GetFeastServingInfo on the same connection: p50/p99/p99.9 %s / %s / %s ms, peak %s req/s)%n",
                    empty.get("p50"), empty.get("p99"), empty.get("p999"), transport.get("peak threads=" + threads).get("rps"));
        } finally {
            if (!options.flag("keep")) {
                IngestBenchmark.deleteRecursively(work);
            } else {
                out.println("kept " + work);
            }
        }
    }

    private static void report(PrintWriter out, Map<String, Map<String, String>> granary, Map<String, Map<String, String>> redis,
                               String redisVersion, int threads) {
        out.println();
        out.printf("%-6s %-28s %-28s %s%n", "batch", "granary gRPC p50/p99/p99.9 ms", redis == null ? "" : "redis " + redisVersion + " p50/p99/p99.9 ms",
                redis == null ? "" : "p99 granary/redis");
        for (String batch : List.of("1", "10", "100")) {
            Map<String, String> g = granary.get("latency batch=" + batch);
            String ours = g.get("p50") + " / " + g.get("p99") + " / " + g.get("p999");
            if (redis == null) {
                out.printf("%-6s %-28s%n", batch, ours);
            } else {
                Map<String, String> r = redis.get("latency batch=" + batch);
                out.printf(Locale.ROOT, "%-6s %-28s %-28s %.2fx%n", batch, ours, r.get("p50") + " / " + r.get("p99") + " / " + r.get("p999"),
                        Double.parseDouble(g.get("p99")) / Double.parseDouble(r.get("p99")));
            }
        }
        String peak = "peak threads=" + threads;
        out.printf("peak requests/s (%d client threads, batch 1): granary %s%s%n", threads, granary.get(peak).get("rps"),
                redis == null ? "" : ", redis " + redis.get(peak).get("rps"));
        out.printf(Locale.ROOT, "targets: p99 <= 0.5 ms at batch 1 (%s ms), <= 4 ms at batch 100 (%s ms)%n",
                granary.get("latency batch=1").get("p99"), granary.get("latency batch=100").get("p99"));
    }

    private static final Pattern RESULT = Pattern.compile("RESULT ([\\w-]+) (latency batch=\\d+|peak threads=\\d+) (.*)");

    private static Map<String, Map<String, String>> loadClient(Path work, String target, int port, long entities, int seconds, int threads,
                                                               PrintWriter out) throws Exception {
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
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xms2g", "-Xmx2g",
                "-XX:+UseParallelGC",
                "-cp", System.getProperty("java.class.path"), OnlineLoadClient.class.getName(), target, String.valueOf(port),
                String.valueOf(entities), String.valueOf(seconds), String.valueOf(threads), String.join(",", fields));
        out.printf("measuring %s from a separate JVM (%d s per case)...%n", target, seconds);
        out.flush();
        Process client = new ProcessBuilder(command).redirectErrorStream(true).start();
        Map<String, Map<String, String>> results = new LinkedHashMap<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                Matcher matcher = RESULT.matcher(line);
                if (matcher.matches()) {
                    Map<String, String> values = new LinkedHashMap<>();
                    for (String pair : matcher.group(3).split(" ")) {
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
            throw new io.granary.common.GranaryException("the " + target + " load client failed (exit " + client.exitValue() + ")",
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

    /** Feature {@code feature} of entity {@code id} in view {@code view}: the same in the dataset and in Redis. */
    static String value(int view, long id, int feature) {
        long mixed = (id * 2654435761L + view * 97L + feature * 7919L) & 0x7fffffffL;
        return feature < FEATURES / 2 ? Long.toString(mixed % 100_000) : Double.toString((mixed % 1_000_000) / 1000.0);
    }

    private static Path writeView(Path file, int view, long entities) throws Exception {
        long base = Instant.parse("2026-11-01T00:00:00Z").getEpochSecond();
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
                line.append(id).append(',').append(Instant.ofEpochSecond(base + id % 86_400));
                for (int feature = 0; feature < FEATURES; feature++) {
                    line.append(',').append(value(view, id, feature));
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
                        command.add(value(view, id, feature).getBytes(StandardCharsets.US_ASCII));
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
