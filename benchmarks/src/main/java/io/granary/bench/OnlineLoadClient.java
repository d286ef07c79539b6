package io.granary.bench;

import feast.proto.serving.ServingAPIProto.GetFeastServingInfoRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingServiceGrpc;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load client of `granary bench online`, run in a JVM of its own so that it does not share a
 * heap or JIT with the server. For each batch size it measures one closed-loop caller's latency,
 * then the rate and latency of many callers at once, against the feature server (gRPC, HTTP JSON,
 * or an empty gRPC call: the transport's floor) or against Redis directly (one pipelined HMGET per
 * entity row). Where the server has a /metrics port it also reports the server's own time for the
 * same requests, from its histogram. In soak mode the callers check every value they receive
 * (a row's features must all come from one materialization round) for a fixed time.
 * Prints RESULT lines for the benchmark to read.
 */
public final class OnlineLoadClient {

    private OnlineLoadClient() {}

    /** One request of a batch of entity ids; returns the values received, as a sanity check. */
    interface Target extends AutoCloseable {
        int call(long[] ids) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (String arg : args) {
            options.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        String target = options.get("target");
        int port = Integer.parseInt(options.get("port"));
        int metricsPort = Integer.parseInt(options.getOrDefault("metrics", "-1"));
        long entities = Long.parseLong(options.get("entities"));
        int seconds = Integer.parseInt(options.get("seconds"));
        int peakThreads = Integer.parseInt(options.get("threads"));
        List<String> fields = List.of(options.get("fields").split(","));
        String protocol = target.startsWith("http") ? "http" : "grpc";
        ManagedChannel channel = target.startsWith("grpc") ? NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build() : null;
        if (options.containsKey("soak")) {
            soak(channel, entities, seconds, peakThreads, Integer.parseInt(options.get("soak")));
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            return;
        }
        try (Target client = open(target, channel, port, fields)) {
            // the JIT needs a while on both sides before latencies mean anything
            for (int batch : new int[] {1, 10, 100, 1}) {
                run(client, batch, entities, 2, null);
            }
        }
        for (int batch : new int[] {1, 10, 100}) {
            Latencies latencies = new Latencies();
            try (Target client = open(target, channel, port, fields)) {
                run(client, batch, entities, 1, null);
                Map<Double, Long> before = serverHistogram(metricsPort, protocol);
                run(client, batch, entities, seconds, latencies);
                String server = serverQuantiles(before, serverHistogram(metricsPort, protocol));
                System.out.printf(Locale.ROOT, "RESULT %s latency batch=%d %s%s%n", target, batch, latencies.summary(), server);
            }
        }
        Latencies peak = new Latencies();
        Map<Double, Long> before = serverHistogram(metricsPort, protocol);
        // each caller on a connection of its own, as separate model servers would be (and as each Redis caller is)
        long requests = callers(peakThreads, seconds, peak, () -> ownConnection(target, port, fields), entities);
        String server = serverQuantiles(before, serverHistogram(metricsPort, protocol));
        System.out.printf(Locale.ROOT, "RESULT %s peak threads=%d rps=%.0f %s%s%n", target, peakThreads, requests / (double) seconds,
                peak.summary(), server);
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    interface Opener {
        Target open() throws Exception;
    }

    /** {@code threads} closed-loop callers of batch 1 for {@code seconds}; returns the requests answered. */
    private static long callers(int threads, int seconds, Latencies latencies, Opener opener, long entities) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicLong requests = new AtomicLong();
        List<Future<Latencies>> clients = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (int t = 0; t < threads; t++) {
            clients.add(pool.submit(() -> {
                Latencies own = new Latencies();
                try (Target client = opener.open()) {
                    long[] ids = new long[1];
                    while (System.nanoTime() < deadline) {
                        ids[0] = ThreadLocalRandom.current().nextLong(entities);
                        long start = System.nanoTime();
                        client.call(ids);
                        own.record(System.nanoTime() - start);
                        requests.incrementAndGet();
                    }
                }
                return own;
            }));
        }
        for (Future<Latencies> client : clients) {
            latencies.addAll(client.get());
        }
        pool.shutdown();
        return requests.get();
    }

    private static void run(Target client, int batch, long entities, int seconds, Latencies latencies) throws Exception {
        long[] ids = new long[batch];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < batch; i++) {
                ids[i] = ThreadLocalRandom.current().nextLong(entities);
            }
            long start = System.nanoTime();
            int values = client.call(ids);
            long took = System.nanoTime() - start;
            if (values == 0) {
                throw new IllegalStateException("no values returned");
            }
            if (latencies != null) {
                latencies.record(took);
            }
        }
    }

    private static Target ownConnection(String target, int port, List<String> fields) throws Exception {
        if (!target.startsWith("grpc")) {
            return open(target, null, port, fields); // HTTP and Redis: a socket of its own already
        }
        ManagedChannel own = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        Target client = open(target, own, port, fields);
        return new Target() {
            @Override
            public int call(long[] ids) throws Exception {
                return client.call(ids);
            }

            @Override
            public void close() throws Exception {
                client.close();
                own.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        };
    }

    private static GetOnlineFeaturesRequest request(long[] ids) {
        RepeatedValue.Builder column = RepeatedValue.newBuilder();
        for (long id : ids) {
            column.addVal(Value.newBuilder().setInt64Val(id));
        }
        return GetOnlineFeaturesRequest.newBuilder().setFeatureService("all").setFullFeatureNames(true)
                .putEntities("entity_id", column.build()).build();
    }

    private static Target open(String target, ManagedChannel channel, int port, List<String> fields) throws Exception {
        switch (target) {
            case "grpc-empty" -> {
                // the transport alone: an empty call on the same channel, to tell gRPC's cost from the lookups'
                ServingServiceGrpc.ServingServiceBlockingStub stub = ServingServiceGrpc.newBlockingStub(channel);
                return new Target() {
                    @Override
                    public int call(long[] ids) {
                        stub.withDeadlineAfter(10, TimeUnit.SECONDS).getFeastServingInfo(GetFeastServingInfoRequest.getDefaultInstance());
                        return 1;
                    }

                    @Override
                    public void close() {}
                };
            }
            case "grpc" -> {
                ServingServiceGrpc.ServingServiceBlockingStub stub = ServingServiceGrpc.newBlockingStub(channel);
                return new Target() {
                    @Override
                    public int call(long[] ids) {
                        GetOnlineFeaturesResponse response = stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(request(ids));
                        return response.getResultsCount() * ids.length;
                    }

                    @Override
                    public void close() {}
                };
            }
            case "http" -> {
                PlainHttp connection = new PlainHttp(port, "/get-online-features");
                return new Target() {
                    @Override
                    public int call(long[] ids) throws Exception {
                        StringBuilder body = new StringBuilder("{\"feature_service\": \"all\", \"full_feature_names\": true, \"entities\": {\"entity_id\": [");
                        for (int i = 0; i < ids.length; i++) {
                            body.append(i == 0 ? "" : ",").append(ids[i]);
                        }
                        body.append("]}}");
                        return connection.post(body.toString().getBytes(StandardCharsets.UTF_8)).length;
                    }

                    @Override
                    public void close() throws Exception {
                        connection.close();
                    }
                };
            }
            case "redis" -> {
                Resp redis = new Resp(port);
                List<byte[]> fieldBytes = fields.stream().map(f -> f.getBytes(StandardCharsets.UTF_8)).toList();
                return new Target() {
                    @Override
                    public int call(long[] ids) throws Exception {
                        for (long id : ids) {
                            List<byte[]> command = new ArrayList<>(fieldBytes.size() + 2);
                            command.add("HMGET".getBytes(StandardCharsets.US_ASCII));
                            command.add(("e:" + id).getBytes(StandardCharsets.US_ASCII));
                            command.addAll(fieldBytes);
                            redis.send(command);
                        }
                        redis.flush();
                        int values = 0;
                        for (int i = 0; i < ids.length; i++) {
                            values += redis.readReply();
                        }
                        return values;
                    }

                    @Override
                    public void close() throws Exception {
                        redis.close();
                    }
                };
            }
            default -> throw new IllegalArgumentException("unknown target " + target);
        }
    }

    /**
     * {@code threads} callers at full speed for {@code seconds} while the benchmark materializes new
     * rounds of view0: every row's ten features must be those of one round (else it is torn), and a
     * caller must never see an entity's round go back.
     */
    private static void soak(ManagedChannel channel, long entities, int seconds, int threads, int batch) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicLong requests = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong torn = new AtomicLong();
        AtomicLong newer = new AtomicLong();
        List<Future<Latencies>> clients = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (int t = 0; t < threads; t++) {
            clients.add(pool.submit(() -> {
                Latencies own = new Latencies();
                ServingServiceGrpc.ServingServiceBlockingStub stub = ServingServiceGrpc.newBlockingStub(channel);
                Map<Long, Long> rounds = new HashMap<>();
                long[] ids = new long[batch];
                while (System.nanoTime() < deadline) {
                    for (int i = 0; i < batch; i++) {
                        ids[i] = ThreadLocalRandom.current().nextLong(OnlineBenchmark.SOAK_ENTITIES);
                    }
                    long start = System.nanoTime();
                    GetOnlineFeaturesResponse response;
                    try {
                        response = stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(request(ids));
                    } catch (RuntimeException e) {
                        if (errors.incrementAndGet() <= 5) {
                            System.out.println("error: " + e);
                        }
                        continue;
                    }
                    own.record(System.nanoTime() - start);
                    requests.incrementAndGet();
                    for (int row = 0; row < batch; row++) {
                        long round = OnlineBenchmark.roundOf(response.getResults(1).getValues(row).getInt64Val());
                        for (int feature = 0; feature < OnlineBenchmark.FEATURES; feature++) {
                            Value value = response.getResults(1 + feature).getValues(row);
                            String expected = OnlineBenchmark.value(0, ids[row], feature, (int) round);
                            String got = feature < OnlineBenchmark.FEATURES / 2 ? Long.toString(value.getInt64Val()) : Double.toString(value.getDoubleVal());
                            if (!expected.equals(got)) {
                                if (torn.incrementAndGet() <= 5) {
                                    System.out.println("torn row: entity " + ids[row] + " round " + round + " f" + feature + " = " + got + ", expected " + expected);
                                }
                                break;
                            }
                        }
                        Long before = rounds.put(ids[row], round);
                        if (before != null && before > round) {
                            torn.incrementAndGet();
                            System.out.println("entity " + ids[row] + " went back from round " + before + " to " + round);
                        } else if (before != null && before < round) {
                            newer.incrementAndGet();
                        }
                    }
                }
                return own;
            }));
        }
        Latencies latencies = new Latencies();
        for (Future<Latencies> client : clients) {
            latencies.addAll(client.get());
        }
        pool.shutdown();
        System.out.printf(Locale.ROOT, "RESULT soak peak threads=%d rps=%.0f errors=%d torn=%d newer=%d %s%n", threads,
                requests.get() / (double) seconds, errors.get(), torn.get(), newer.get(), latencies.summary());
    }

    private static final Pattern BUCKET = Pattern.compile("granary_feature_request_seconds_bucket\\{(.*)} (\\S+)");
    private static final Pattern LE = Pattern.compile("le=\"([^\"]+)\"");

    /** The server's latency histogram for {@code protocol}: upper bound in seconds to cumulative count (empty without a metrics port). */
    private static Map<Double, Long> serverHistogram(int metricsPort, String protocol) throws Exception {
        Map<Double, Long> buckets = new TreeMap<>();
        if (metricsPort < 0) {
            return buckets;
        }
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            Matcher matcher = BUCKET.matcher(line);
            if (matcher.matches() && matcher.group(1).contains("protocol=\"" + protocol + "\"")) {
                Matcher le = LE.matcher(matcher.group(1));
                if (le.find()) {
                    double bound = le.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le.group(1));
                    buckets.put(bound, (long) Double.parseDouble(matcher.group(2)));
                }
            }
        }
        return buckets;
    }

    /** The server's p50 and p99 over the requests between two scrapes, interpolated within buckets, as " server_p50=... server_p99=...". */
    private static String serverQuantiles(Map<Double, Long> before, Map<Double, Long> after) {
        if (after.isEmpty()) {
            return "";
        }
        List<Double> bounds = new ArrayList<>(after.keySet());
        long[] counts = new long[bounds.size()];
        for (int i = 0; i < bounds.size(); i++) {
            counts[i] = after.get(bounds.get(i)) - before.getOrDefault(bounds.get(i), 0L);
        }
        long total = counts[counts.length - 1];
        if (total == 0) {
            return "";
        }
        StringBuilder text = new StringBuilder();
        for (double q : new double[] {0.5, 0.99}) {
            double rank = q * total;
            double value = Double.NaN;
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] >= rank) {
                    double lower = i == 0 ? 0 : bounds.get(i - 1);
                    double upper = Double.isInfinite(bounds.get(i)) ? lower : bounds.get(i);
                    long below = i == 0 ? 0 : counts[i - 1];
                    double share = counts[i] == below ? 0 : (rank - below) / (counts[i] - below);
                    value = lower + (upper - lower) * share;
                    break;
                }
            }
            text.append(String.format(Locale.ROOT, " server_p%s=%.3f", q == 0.5 ? "50" : "99", value * 1000));
        }
        return text.toString();
    }
}
