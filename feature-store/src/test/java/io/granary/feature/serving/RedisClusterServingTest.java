package io.granary.feature.serving;

import static io.granary.feature.testing.FeatureStoreFixture.DEFINITIONS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import feast.proto.serving.ServingAPIProto.FeatureList;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingServiceGrpc;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.LocalRedis;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.online.RedisSettings;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.registry.RegistryState;
import io.granary.feature.testing.FeatureStoreFixture;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;

/**
 * A real three-node Redis Cluster on loopback: rows land on every node, the answers equal the
 * RocksDB store's, and two serving replicas on the Cluster answer the same values, never a torn
 * row, while materialization rounds run. Every row version has dwell == clicks + 0.5.
 */
class RedisClusterServingTest {

    static final int USERS = 600;
    static final int ROUNDS = 4;

    @TempDir
    Path dir;

    private static String[] round(int round, Instant base) {
        String[] rows = new String[USERS];
        for (int user = 0; user < USERS; user++) {
            long clicks = round * 100_000L + user;
            Instant event = base.plusSeconds(round * 60L);
            rows[user] = user + "," + event + "," + event + "," + clicks + "," + (clicks + 0.5);
        }
        return rows;
    }

    private static GetOnlineFeaturesRequest users(List<Long> ids) {
        RepeatedValue.Builder values = RepeatedValue.newBuilder();
        ids.forEach(id -> values.addVal(Value.newBuilder().setInt64Val(id)));
        return GetOnlineFeaturesRequest.newBuilder().setFeatures(FeatureList.newBuilder().addVal("user_stats:clicks").addVal("user_stats:dwell"))
                .putEntities("user_id", values.build()).build();
    }

    private static void awaitRequests(AtomicLong requests, long count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (requests.get() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the clients made only " + requests.get() + " requests in 30 s");
            }
            Thread.sleep(5);
        }
    }

    @Test
    void keysOnEveryNodeAnswersEqualRocksDbsAndReplicasNeverAnswerATornRow() throws Exception {
        Instant base = Instant.now().minusSeconds(3600);
        Instant end = Instant.now().plusSeconds(3600);
        try (FeatureStoreFixture fixture = new FeatureStoreFixture(dir); LocalRedis cluster = LocalRedis.cluster(dir.resolve("cluster"), 3)) {
            fixture.userStats(round(0, base));
            fixture.itemStats("{\"item_id\": \"a\", \"event_ts\": \"2026-01-01T00:00:00Z\", \"ctr\": 0.1, \"tags\": []}");
            RegistryState registry = fixture.apply(DEFINITIONS);
            RedisSettings settings = RedisSettings.cluster(cluster.nodes());
            OnlineStore writer = settings.openWriter();
            Materializer materializer = new Materializer(fixture.datasets, registry, writer);
            materializer.materializeIncremental(List.of(), end);
            try (RocksDbOnlineStore rocksWriter = RocksDbOnlineStore.openWriter(fixture.onlinePath)) {
                new Materializer(fixture.datasets, registry, rocksWriter).materializeIncremental(List.of(), end);
            }

            for (int node = 0; node < 3; node++) {
                try (Jedis jedis = cluster.connect(node)) {
                    int rows = jedis.scan(ScanParams.SCAN_POINTER_START, new ScanParams().match("granary:row:user_stats:*").count(10_000))
                            .getResult().size();
                    assertThat(rows).as("rows on node %d", node).isGreaterThan(USERS / 6);
                }
            }
            Set<List<Object>> listed = new HashSet<>();
            writer.forEachKey("user_stats", key -> listed.add(EntityKeys.decode(key)));
            assertThat(listed).as("every key once, from the primaries").hasSize(USERS);

            List<Long> everyone = new ArrayList<>();
            for (long user = 0; user < USERS + 5; user++) {
                everyone.add(user);
            }
            try (OnlineStore rocks = RocksDbOnlineStore.openReader(fixture.onlinePath); OnlineStore redisReader = settings.openReader()) {
                Clock clock = Clock.systemUTC();
                GetOnlineFeaturesResponse fromRedis = new OnlineFeatures(() -> registry, redisReader, clock, (v, k) -> { }).get(users(everyone));
                GetOnlineFeaturesResponse fromRocks = new OnlineFeatures(() -> registry, rocks, clock, (v, k) -> { }).get(users(everyone));
                assertThat(fromRedis).isEqualTo(fromRocks);
                assertThat(fromRedis.getResults(1).getStatusesList().subList(USERS, USERS + 5)).containsOnly(FieldStatus.NOT_FOUND);
            }

            // an operator moves slots between nodes: a reader that knew the old owners follows them, and so does the writer
            try (OnlineStore redisReader = settings.openReader(); OnlineStore rocks = RocksDbOnlineStore.openReader(fixture.onlinePath)) {
                OnlineFeatures fromRedis = new OnlineFeatures(() -> registry, redisReader, Clock.systemUTC(), (v, k) -> { });
                GetOnlineFeaturesResponse before = fromRedis.get(users(everyone));
                cluster.reshard(0, 1, 2000);
                assertThat(fromRedis.get(users(everyone))).as("after resharding").isEqualTo(before);
                assertThat(before).isEqualTo(new OnlineFeatures(() -> registry, rocks, Clock.systemUTC(), (v, k) -> { }).get(users(everyone)));

                // a node down: every health check fails by name, and gives the other nodes' connections back (their pools hold 64)
                cluster.stop(2);
                for (int check = 0; check < 100; check++) {
                    assertThatThrownBy(redisReader::catchUp).isInstanceOf(GranaryException.class).hasMessageContaining("Redis Cluster");
                }
                cluster.restart(2);
                assertThat(fromRedis.get(users(everyone))).as("the node back, with its rows").isEqualTo(before);
            }

            ServerSettings serverSettings = new ServerSettings("127.0.0.1", 0, 0, Optional.empty(), Duration.ofMillis(50), Duration.ofSeconds(1));
            try (FeatureServer first = new FeatureServer(fixture.registry, settings, serverSettings, "replica-1");
                 FeatureServer second = new FeatureServer(fixture.registry, settings, serverSettings, "replica-2")) {
                List<ManagedChannel> channels = List.of(
                        NettyChannelBuilder.forAddress("127.0.0.1", first.grpcPort()).usePlaintext().build(),
                        NettyChannelBuilder.forAddress("127.0.0.1", second.grpcPort()).usePlaintext().build());
                AtomicBoolean done = new AtomicBoolean();
                AtomicLong requests = new AtomicLong();
                ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
                ExecutorService clients = Executors.newFixedThreadPool(4);
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int seed = t;
                    futures.add(clients.submit(() -> {
                        Random random = new Random(seed);
                        Map<Long, Long> lastRound = new HashMap<>();
                        while (!done.get()) {
                            List<Long> ids = new ArrayList<>();
                            for (int i = 0; i < 10; i++) {
                                ids.add((long) random.nextInt(USERS));
                            }
                            var stub = ServingServiceGrpc.newBlockingStub(channels.get(random.nextInt(2)));
                            try {
                                GetOnlineFeaturesResponse response = stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(users(ids));
                                for (int row = 0; row < ids.size(); row++) {
                                    long clicks = response.getResults(1).getValues(row).getInt64Val();
                                    double dwell = response.getResults(2).getValues(row).getDoubleVal();
                                    if (dwell != clicks + 0.5 || clicks % 100_000 != ids.get(row)) {
                                        problems.add("torn row for user " + ids.get(row) + ": clicks " + clicks + ", dwell " + dwell);
                                    }
                                    Long before = lastRound.put(ids.get(row), clicks / 100_000);
                                    if (before != null && before > clicks / 100_000) {
                                        problems.add("user " + ids.get(row) + " went back from round " + before);
                                    }
                                }
                                requests.incrementAndGet();
                            } catch (RuntimeException e) {
                                problems.add("error: " + e);
                            }
                        }
                        return null;
                    }));
                }
                awaitRequests(requests, 20);
                for (int round = 1; round <= ROUNDS; round++) {
                    fixture.userStats(round(round, base));
                    materializer.materializeIncremental(List.of("user_stats"), end);
                }
                awaitRequests(requests, requests.get() + 20);
                done.set(true);
                for (Future<?> future : futures) {
                    future.get(30, TimeUnit.SECONDS);
                }
                clients.shutdown();

                GetOnlineFeaturesResponse fromFirst = ServingServiceGrpc.newBlockingStub(channels.get(0)).getOnlineFeatures(users(everyone));
                GetOnlineFeaturesResponse fromSecond = ServingServiceGrpc.newBlockingStub(channels.get(1)).getOnlineFeatures(users(everyone));
                for (ManagedChannel channel : channels) {
                    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
                assertThat(problems).as("after " + requests.get() + " requests").isEmpty();
                assertThat(fromFirst.getResultsList()).as("both replicas answer the same values").isEqualTo(fromSecond.getResultsList());
                assertThat(fromFirst.getResults(1).getValues(USERS - 1).getInt64Val() / 100_000).isEqualTo(ROUNDS);
            } finally {
                writer.close();
            }
        }
    }
}
