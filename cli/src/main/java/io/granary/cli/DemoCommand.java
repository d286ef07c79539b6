package io.granary.cli;

import io.granary.cli.demo.DemoData;
import io.granary.cli.demo.SpeechData;
import io.granary.common.FileTrees;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingServiceGrpc;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.granary.feature.serving.FeatureServer;
import io.granary.feature.serving.ServerSettings;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {
            "Run the whole flow on generated CTR data: create datasets from CSV, Parquet and JSON Lines,",
            "derive daily statistics with Spark SQL, append a second day, tag, time-travel, show history and lineage;",
            "register features, build point-in-time training data, materialize, and serve them over gRPC and HTTP;",
            "pack thousands of small WAV files into WebDataset shards registered as a dataset, verify them, fetch one by key.",
            "Each step prints the command that does it, so you can run them yourself afterwards.",
        })
public final class DemoCommand extends Subcommand {

    static final String NAMESPACE = "demo";
    static final String SHARDS = "demo-shards";

    @Option(names = "--clicks-per-day", defaultValue = "20000", description = "Click events per day (default: ${DEFAULT-VALUE}).")
    int clicksPerDay;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed of the generated data (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    protected void run() throws Exception {
        long start = System.nanoTime();
        Context context = context();
        PrintWriter out = out();
        Path dataDir = context.config().dataDir();
        Path inputs = dataDir.resolve("demo-input");

        section(out, "Generating CTR data in " + inputs);
        DemoData.Files files = new DemoData(1000, 300, clicksPerDay, seed).write(inputs, LocalDate.now(ZoneOffset.UTC));
        out.printf("users.csv, items.parquet, %s (CSV) and %s (JSON Lines), %,d clicks a day%n",
                files.clicksDay1().getFileName(), files.clicksDay2().getFileName(), clicksPerDay);
        dropPreviousDemo(context.datasets(), out);

        String data = "--data-dir=" + dataDir;
        section(out, "Datasets from files: schema inferred from every value, one atomic Iceberg commit each");
        step(context, "dataset", "create", "demo.users", "--from", files.users().toString(), data);
        step(context, "dataset", "create", "demo.items", "--from", files.items().toString(), data);
        step(context, "dataset", "create", "demo.clicks", "--from", files.clicksDay1().toString(), "--partition-by", "day(ts)", data);
        step(context, "dataset", "tag", "demo.clicks", "day1", data);

        section(out, "Daily statistics with Spark SQL: the commits record which snapshot of demo.clicks they read");
        step(context, "dataset", "create", "demo.user_stats", "--query", userStats(files.day1()), data);
        step(context, "dataset", "create", "demo.item_stats", "--query", itemStats(files.day1()), data);

        section(out, "A second day arrives (as JSON Lines): appended, tagged, and its statistics added");
        step(context, "dataset", "append", "demo.clicks", files.clicksDay2().toString(), data);
        step(context, "dataset", "tag", "demo.clicks", "day2", data);
        step(context, "dataset", "append", "demo.user_stats", "--query", userStats(files.day2()), data);
        step(context, "dataset", "append", "demo.item_stats", "--query", itemStats(files.day2()), data);

        section(out, "What is there now");
        step(context, "dataset", "list", data);
        step(context, "dataset", "show", "demo.clicks", data);
        step(context, "dataset", "log", "demo.clicks", data);

        section(out, "Time travel: by tag, and through Spark SQL by tag and by the current version");
        step(context, "dataset", "head", "demo.clicks@day1", "-n", "5", data);
        step(context, "sql", "SELECT 'day1' AS version, count(*) AS clicks, round(avg(CAST(clicked AS INT)), 4) AS ctr "
                + "FROM demo.clicks VERSION AS OF 'day1' UNION ALL SELECT 'latest', count(*), round(avg(CAST(clicked AS INT)), 4) FROM demo.clicks", data);

        section(out, "Lineage: where the rows of demo.user_stats came from");
        step(context, "dataset", "lineage", "demo.user_stats", data);

        section(out, "Features: entities, feature views and a feature service (Feast's concepts) over these datasets");
        Path features = inputs.resolve("features.yaml");
        try (InputStream definitions = DemoCommand.class.getResourceAsStream("demo/features.yaml")) {
            Files.copy(definitions, features, StandardCopyOption.REPLACE_EXISTING);
        }
        step(context, "feature", "apply", features.toString(), data);
        step(context, "feature", "list", data);

        section(out, "Training data, point-in-time correct: each click gets the statistics known at its time, never later ones");
        step(context, "feature", "history", "--entities", "demo.clicks", "--service", "ctr_model_v1", "--out", "demo.training", data);
        step(context, "sql", "SELECT to_date(ts) AS day, count(*) AS clicks, count(clicks) AS with_user_stats, "
                + "count(ctr) AS with_item_stats, count(country) AS with_profile FROM demo.training GROUP BY to_date(ts) ORDER BY day", data);
        out.println("(day 1's statistics are known only at the end of day 1, so day-1 clicks get none: nothing leaks from the future)");

        section(out, "Online: materialize the latest values into RocksDB, then look them up as a model server would");
        step(context, "feature", "materialize-incremental", data);
        step(context, "feature", "get", "--service", "ctr_model_v1", "--entity", "user_id=1001,1002,99999", "--entity", "item_id=50001,50002,50003", data);
        serveAndQuery(context, out);

        section(out, "Training and serving agree: the store's answers against the point-in-time answer at the materialization's end");
        step(context, "feature", "verify-online", data);

        packSpeech(context, dataDir, inputs, data);

        samplePipelines(context, inputs, data);

        cacheAndMount(context, dataDir, inputs, data);

        String dataFlag = dataDir.equals(Path.of("granary-data").toAbsolutePath()) ? "" : " --data-dir " + shown(dataDir.toString());
        out.printf("%nDemo finished in %.0f s. The datasets are in %s; try:%n", (System.nanoTime() - start) / 1e9,
                shown(context.config().catalog().warehouse()));
        out.println("  ./granary dataset list" + dataFlag);
        out.println("  ./granary dataset head demo.user_stats -n 5" + dataFlag);
        out.println("  ./granary sql \"SELECT * FROM demo.clicks.snapshots\"" + dataFlag);
        out.println("  ./granary serve features" + dataFlag + "     (then call 127.0.0.1:6566 with any Feast client)");
        out.println("  tar -tvf " + shown(dataDir.resolve(SHARDS).resolve("speech-000000.tar").toString()) + " | head");
        out.println("  ls -l " + shown(dataDir.resolve(MOUNT).toString()) + "; ./granary umount " + shown(dataDir.resolve(MOUNT).toString()) + dataFlag);
    }

    static final String MOUNT = "demo-mnt/speech";

    /**
     * The node cache: stage the recordings and the training samples, show the cache, mount the
     * recordings read-only as a pod would see them, restage (nothing to copy), then follow
     * demo.speech while a new day of recordings is packed: the new snapshot is staged within
     * seconds, copying only its new files.
     */
    private void cacheAndMount(Context context, Path dataDir, Path inputs, String data) throws Exception {
        PrintWriter out = context.out();
        Path view = dataDir.resolve(MOUNT);
        if (Files.exists(view.resolve(io.granary.cache.mount.Mounts.MARKER))) {
            Main.runWith(context, "umount", view.toString(), data);
        }
        section(out, "The node cache: snapshots staged once onto local disk (under a quota), shared by every job on the node");
        step(context, "cache", "stage", "demo.speech", data);
        step(context, "cache", "stage", "demo.ctr_samples_train", data);
        step(context, "cache", "status", data);

        section(out, "Mount: a read-only view of the snapshot for training pods (hard links into the cache, pinned until unmounted)");
        step(context, "mount", "demo.speech", view.toString(), data);
        try (java.util.stream.Stream<Path> files = Files.list(view)) {
            out.println();
            out.println("$ ls " + shown(view.toString()));
            out.println(files.map(f -> f.getFileName().toString()).filter(name -> !name.startsWith(".")).sorted()
                    .collect(java.util.stream.Collectors.joining("  ")));
        }
        out.println("(another job staging the same snapshot copies nothing:)");
        step(context, "cache", "stage", "demo.speech", data);

        section(out, "Follow: a third day of recordings is packed while `cache stage --follow` watches demo.speech");
        out.println();
        out.println("$ granary cache stage demo.speech --follow      (the demo runs it in the background)");
        try (io.granary.cache.NodeCache cache = context.cache();
             io.granary.cache.stage.Follower follower = new io.granary.cache.stage.Follower(cache,
                     io.granary.dataset.DatasetRef.parse("demo.speech"), java.time.Duration.ofMillis(500), cache.settings().parallel(),
                     result -> io.granary.cli.cache.StageCommand.print(out, "demo.speech", result))) {
            Thread thread = new Thread(() -> {
                try {
                    follower.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "granary-demo-follow");
            thread.setDaemon(true);
            thread.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (follower.current().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            String before = follower.current().orElseThrow(() -> new GranaryException("--follow did not stage demo.speech", "rerun with --debug"));
            Path speech = inputs.resolve("speech");
            Path labels = new SpeechData(12, seed).write(speech, 275, 25);
            long packed = System.nanoTime();
            step(context, "pack", speech.toString(), "--out", dataDir.resolve(SHARDS).toString(), "--prefix", "speech", "--shard-size", "8m",
                    "--dataset", "demo.speech", "--metadata", labels.toString(), data);
            while (follower.current().filter(before::equals).isPresent() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (follower.current().filter(before::equals).isPresent()) {
                throw new GranaryException("--follow did not stage demo.speech's new snapshot in 30 s", "rerun with --debug");
            }
            out.printf("(the follower staged the new snapshot %.1f s after the pack began, and unpinned %s)%n",
                    (System.nanoTime() - packed) / 1e9, before);
            step(context, "cache", "status", data);
        }

        section(out, "The node's cache daemon: every job and pod on a node goes through one process (gRPC, Prometheus /metrics)");
        out.println("$ granary serve cache      (the demo runs it in the background; the commands below find it under the cache root)");
        io.granary.cache.daemon.DaemonSettings listen = context.config().cache().daemon().withListen("127.0.0.1", 0, 0);
        try (io.granary.cache.NodeCache cache = context.cache();
             io.granary.cache.daemon.CacheDaemon daemon = new io.granary.cache.daemon.CacheDaemon(cache, listen)) {
            step(context, "cache", "stage", "demo.ctr_samples_train", data);
            step(context, "cache", "node-labels", "--node", "gpu-node-1", data);
            out.println();
            out.println("$ curl -s http://127.0.0.1:" + daemon.httpPort() + "/metrics | grep -E 'hits|misses|used_bytes'");
            java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + daemon.httpPort() + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            metrics.body().lines().filter(line -> !line.startsWith("#") && line.matches("granary_cache_(hits|misses|used_bytes).*"))
                    .forEach(out::println);
        }

        section(out, "Kubernetes: a training pod that mounts demo.speech from its node's cache (fabric8 model, printed as YAML)");
        step(context, "k8s", "pod-spec", "demo.speech", "--image", "ghcr.io/acme/asr-trainer:1", "--name", "asr-train", data);

        section(out, "Streams: the training samples and demo.speech as Arrow record batches over Arrow Flight, one stream per rank");
        try (io.granary.cache.NodeCache cache = context.cache();
             io.granary.cache.stream.DataServer server = new io.granary.cache.stream.DataServer(cache, "127.0.0.1", 0, 0)) {
            String port = Integer.toString(server.port());
            out.println("$ granary serve data --port " + port + " --http-port " + server.httpPort() + "      (the demo runs it in the background)");
            for (String rank : new String[] {"0", "1"}) {
                step(context, "stream", "demo.ctr_samples_train", "--rank", rank, "--world-size", "2", "--shuffle", "units", "--seed", "1",
                        "--batch-rows", "1024", "--port", port, data);
            }
            out.println("-- a packed media set streams as samples: __key__, one binary column per member (json, wav), its metadata");
            for (String rank : new String[] {"0", "1"}) {
                step(context, "stream", "demo.speech", "--rank", rank, "--world-size", "2", "--shuffle", "units", "--seed", "1",
                        "--batch-rows", "256", "--port", port, data);
            }
            out.println("-- dynamic mode: each worker leases the next unit when it is ready; run one after the other here, the first worker takes every unit");
            step(context, "stream", "demo.speech", "--mode", "dynamic", "--worker", "a", "--world-size", "2", "--epoch", "1",
                    "--columns", "__key__,wav", "--port", port, data);
            step(context, "stream", "demo.speech", "--mode", "dynamic", "--worker", "b", "--world-size", "2", "--epoch", "1",
                    "--columns", "__key__,wav", "--port", port, data);
            out.println("-- the same stream over plain HTTP, for curl or any Arrow library:");
            out.println("$ curl -s 'http://127.0.0.1:" + server.httpPort() + "/v1/stream?dataset=demo.speech&world_size=2&rank=0&columns=__key__,json' "
                    + "| python -c 'import pyarrow.ipc, sys; print(pyarrow.ipc.open_stream(sys.stdin.buffer).read_all().num_rows)'");
            java.net.http.HttpResponse<byte[]> http = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + server.httpPort() + "/v1/stream?dataset=demo.speech&world_size=2&rank=0&columns=__key__,json"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            long rows = 0;
            try (org.apache.arrow.memory.RootAllocator allocator = new org.apache.arrow.memory.RootAllocator();
                 org.apache.arrow.vector.ipc.ArrowStreamReader reader = new org.apache.arrow.vector.ipc.ArrowStreamReader(
                         new java.io.ByteArrayInputStream(http.body()), allocator)) {
                while (reader.loadNextBatch()) {
                    rows += reader.getVectorSchemaRoot().getRowCount();
                }
            }
            out.printf("HTTP %d, %s, %,d bytes: %,d rows (read here with Arrow's own IPC reader)%n", http.statusCode(),
                    http.headers().firstValue("Content-Type").orElse("?"), http.body().length, rows);
            String metrics = new String(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body(), java.nio.charset.StandardCharsets.UTF_8);
            out.println("$ curl -s http://127.0.0.1:" + server.httpPort() + "/metrics | grep -E 'rows_sent|units_leased'");
            metrics.lines().filter(line -> !line.startsWith("#") && line.matches("granary_stream_(rows_sent|units_leased).*")).forEach(out::println);
        }
    }

    /**
     * Media: a few thousand short recordings with JSON sidecars packed into WebDataset shards
     * registered as a dataset, verified, one sample fetched by key, then a second day's
     * recordings packed into the same dataset (a new snapshot with only the new samples).
     */
    private void packSpeech(Context context, Path dataDir, Path inputs, String data) throws Exception {
        PrintWriter out = context.out();
        section(out, "Media: small WAV files into WebDataset shards, with an index, versioned as a dataset");
        Path speech = inputs.resolve("speech");
        Path shards = dataDir.resolve(SHARDS);
        FileTrees.delete(speech);
        FileTrees.delete(shards);
        FileTrees.delete(dataDir.resolve("demo-get"));
        SpeechData generator = new SpeechData(12, seed);
        Path labels = generator.write(speech, 0, 250);
        out.printf("%s: 12 speakers x 250 utterances, a 16 kHz tone .wav and a .json each; labels in %s%n", shown(speech.toString()),
                labels.getFileName());
        step(context, "pack", speech.toString(), "--out", shards.toString(), "--prefix", "speech", "--shard-size", "8m",
                "--dataset", "demo.speech", "--metadata", labels.toString(), data);
        step(context, "pack", "verify", shards.toString(), data);
        step(context, "pack", "ls", shards.toString(), "--limit", "3", data);
        Random random = new Random(seed);
        String key = String.format("spk%02d/utt%04d", random.nextInt(12), random.nextInt(250));
        step(context, "pack", "get", shards.toString(), key, "--out", dataDir.resolve("demo-get").toString(), data);

        section(out, "The next day's recordings: packing again adds new shards and a snapshot with only the new samples");
        Path moreLabels = generator.write(speech, 250, 25);
        step(context, "pack", speech.toString(), "--out", shards.toString(), "--prefix", "speech", "--shard-size", "8m",
                "--dataset", "demo.speech", "--metadata", moreLabels.toString(), data);
        step(context, "dataset", "log", "demo.speech", data);
        step(context, "sql", "SELECT word, count(*) AS samples, round(avg(duration_s), 3) AS avg_seconds FROM demo.speech "
                + "WHERE ext = 'wav' GROUP BY word ORDER BY word", data);
    }

    /**
     * Sample pipelines: examples/pipelines/ctr.yaml run, rerun (every node skipped), rerun with
     * another split (only the split and what is below it run), rerun after a third day of clicks
     * (incremental: only the new day's rows); then speech.yaml over demo.speech.
     */
    private void samplePipelines(Context context, Path inputs, String data) throws Exception {
        PrintWriter out = context.out();
        section(out, "Sample pipelines: a template plus a short config (examples/pipelines/ctr.yaml) run as a DAG of nodes");
        Path pipelines = Files.createDirectories(inputs.resolve("pipelines"));
        Path ctr = pipelines.resolve("ctr.yaml");
        Path speech = pipelines.resolve("speech.yaml");
        for (Path file : List.of(ctr, speech)) {
            try (InputStream in = DemoCommand.class.getResourceAsStream("demo/pipelines/" + file.getFileName())) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        // a previous demo's runs name datasets it has dropped: its sample history goes with them
        FileTrees.delete(context.config().samples().path().resolve("runs").resolve("ctr_samples"));
        FileTrees.delete(context.config().samples().path().resolve("runs").resolve("speech_samples"));
        step(context, "sample", "gc", data);
        step(context, "sample", "template", "show", "standard-samples", data);
        step(context, "sample", "plan", ctr.toString(), data);
        step(context, "sample", "run", ctr.toString(), data);

        section(out, "Run it again: every node's fingerprint has a committed output, so nothing runs (and Spark is not needed)");
        step(context, "sample", "run", ctr.toString(), data);

        section(out, "Change only the split: the nodes above it are skipped, the split and the nodes below it run");
        Path resplit = pipelines.resolve("ctr-resplit.yaml");
        Files.writeString(resplit, Files.readString(ctr).replace("split: {train: 0.8, validation: 0.1, test: 0.1, by: user_id}",
                "split: {train: 0.7, validation: 0.15, test: 0.15, by: user_id}"));
        step(context, "sample", "plan", resplit.toString(), data);
        step(context, "sample", "run", resplit.toString(), data);

        section(out, "A third day of clicks arrives: the row-local nodes take only the new day's rows and append them to the outputs");
        Path day3 = new DemoData(1000, 300, clicksPerDay, seed).writeMoreClicks(inputs, LocalDate.now(ZoneOffset.UTC));
        step(context, "dataset", "append", "demo.clicks", day3.toString(), data);
        step(context, "sample", "plan", resplit.toString(), data);
        step(context, "sample", "run", resplit.toString(), data);
        step(context, "sample", "runs", "ctr_samples", data);

        section(out, "Media: the packed recordings to train/validation/test splits by speaker (examples/pipelines/speech.yaml)");
        step(context, "sample", "run", speech.toString(), data);
        step(context, "sql", "SELECT 'train' AS split, count(*) AS samples, count(DISTINCT speaker) AS speakers FROM demo.speech_samples_train "
                + "UNION ALL SELECT 'validation', count(*), count(DISTINCT speaker) FROM demo.speech_samples_validation "
                + "UNION ALL SELECT 'test', count(*), count(DISTINCT speaker) FROM demo.speech_samples_test", data);
    }

    /** Starts the feature server on free ports, calls it over gRPC and HTTP like a model server, stops it. */
    private static void serveAndQuery(Context context, PrintWriter out) throws Exception {
        var store = context.config().featureStore();
        out.println();
        out.println("$ granary serve features --port 0 --http-port 0      (the demo runs it in the background)");
        ServerSettings settings = store.server().withPorts("127.0.0.1", 0, 0).withToken(java.util.Optional.empty());
        long start = System.nanoTime();
        try (FeatureServer server = new FeatureServer(context.registry(), store.onlineStore(), settings, "granary " + Versions.granary())) {
            out.printf("serving on gRPC 127.0.0.1:%d and HTTP 127.0.0.1:%d (started in %d ms)%n", server.grpcPort(), server.httpPort(),
                    (System.nanoTime() - start) / 1_000_000);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
            try {
                GetOnlineFeaturesResponse response = ServingServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .getOnlineFeatures(GetOnlineFeaturesRequest.newBuilder()
                                .setFeatureService("ctr_model_v1")
                                .putEntities("user_id", RepeatedValue.newBuilder().addVal(Value.newBuilder().setInt64Val(1001)).build())
                                .putEntities("item_id", RepeatedValue.newBuilder().addVal(Value.newBuilder().setInt64Val(50001)).build())
                                .build());
                out.println();
                out.println("gRPC feast.serving.ServingService/GetOnlineFeatures {feature_service: ctr_model_v1, user_id: [1001], item_id: [50001]}:");
                for (int i = 0; i < response.getResultsCount(); i++) {
                    var vector = response.getResults(i);
                    out.printf("  %-14s %-22s %s%n", response.getMetadata().getFeatureNames().getVal(i),
                            io.granary.cli.output.Formats.featureValue(vector.getValues(0)), vector.getStatuses(0));
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            String body = "{\"features\": [\"user_daily:clicks\", \"user_profile:country\"], \"entities\": {\"user_id\": [1001, 1002]}}";
            HttpResponse<String> http = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.httpPort() + "/get-online-features"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            out.println();
            out.println("$ curl -X POST http://127.0.0.1:" + server.httpPort() + "/get-online-features -d '" + body + "'");
            out.println(http.body());
        }
        out.flush();
    }

    static String userStats(LocalDate day) {
        return dailyStats("user_id", "avg(dwell_ms) AS avg_dwell_ms", day);
    }

    static String itemStats(LocalDate day) {
        return dailyStats("item_id", "avg(position) AS avg_position", day);
    }

    /**
     * One day's click statistics per {@code key}. event_ts is the end of the day (when the values
     * become known), created_ts the time they were computed: what a feature view needs.
     */
    private static String dailyStats(String key, String extraColumn, LocalDate day) {
        String from = "TIMESTAMP'" + day + " 00:00:00'";
        String to = "TIMESTAMP'" + day.plusDays(1) + " 00:00:00'";
        return "SELECT " + key + ", DATE'" + day + "' AS day, count(*) AS impressions, sum(CAST(clicked AS INT)) AS clicks, "
                + "round(avg(CAST(clicked AS INT)), 4) AS ctr, " + extraColumn + ", "
                + to + " AS event_ts, current_timestamp() AS created_ts "
                + "FROM demo.clicks WHERE ts >= " + from + " AND ts < " + to + " GROUP BY " + key;
    }

    private static void dropPreviousDemo(Datasets datasets, PrintWriter out) {
        if (!datasets.namespaces().contains(NAMESPACE)) {
            return;
        }
        List<DatasetName> previous = new ArrayList<>(datasets.list(Optional.of(NAMESPACE)));
        if (!previous.isEmpty()) {
            out.println("(dropping the previous run's demo datasets: " + previous + ")");
            previous.forEach(name -> datasets.drop(name, true));
        }
    }

    /** A path as the user would type it: relative to the working directory when inside it. */
    private static String shown(String path) {
        String here = Path.of("").toAbsolutePath() + "/";
        return path.startsWith(here) ? path.substring(here.length()) : path;
    }

    private static void section(PrintWriter out, String title) {
        out.println();
        out.println("== " + title);
        out.flush();
    }

    private static void step(Context context, String... args) {
        PrintWriter out = context.out();
        List<String> shown = new ArrayList<>();
        for (String arg : args) {
            if (!arg.startsWith("--data-dir=")) {
                shown.add(arg.contains(" ") ? "\"" + arg + "\"" : shown(arg));
            }
        }
        out.println();
        out.println("$ granary " + String.join(" ", shown));
        out.flush();
        int code = Main.runWith(context, args);
        if (code != 0) {
            throw new GranaryException("demo step failed (exit " + code + "): granary " + String.join(" ", shown),
                    "see the error above; rerun with --debug for details");
        }
    }
}
