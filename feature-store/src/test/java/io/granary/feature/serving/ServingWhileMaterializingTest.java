package io.granary.feature.serving;

import static io.granary.feature.testing.FeatureStoreFixture.DEFINITIONS;
import static org.assertj.core.api.Assertions.assertThat;

import feast.proto.serving.ServingAPIProto.FeatureList;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingServiceGrpc;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.testing.FeatureStoreFixture;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eight client threads call the server over gRPC while materialization rounds write new values
 * for every user. Every row version satisfies dwell == clicks + 0.5, so a torn row (values of two
 * versions) would show; a user's round must never go backwards.
 */
class ServingWhileMaterializingTest {

    @TempDir
    Path dir;

    static final int USERS = 2000;
    static final int ROUNDS = 6;

    private static String[] round(int round, Instant base) {
        String[] rows = new String[USERS];
        for (int user = 0; user < USERS; user++) {
            long clicks = round * 100_000L + user;
            Instant event = base.plusSeconds(round * 60L);
            rows[user] = user + "," + event + "," + event + "," + clicks + "," + (clicks + 0.5);
        }
        return rows;
    }

    @Test
    void eightClientsSeeNoErrorsAndNoTornRowsDuringMaterialization() throws Exception {
        Instant base = Instant.now().minusSeconds(3600);
        try (FeatureStoreFixture fixture = new FeatureStoreFixture(dir)) {
            fixture.userStats(round(0, base));
            fixture.itemStats("{\"item_id\": \"a\", \"event_ts\": \"2026-01-01T00:00:00Z\", \"ctr\": 0.1, \"tags\": []}");
            fixture.apply(DEFINITIONS);
            RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(fixture.onlinePath);
            Materializer materializer = new Materializer(fixture.datasets, fixture.registry.load(), writer);
            materializer.materializeIncremental(List.of("user_stats"), Instant.now().plusSeconds(3600));

            ServerSettings settings = new ServerSettings("127.0.0.1", 0, 0, Optional.empty(), Duration.ofMillis(10), Duration.ofSeconds(1));
            try (FeatureServer server = new FeatureServer(fixture.registry, fixture.onlinePath, settings, "test")) {
                ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
                AtomicBoolean done = new AtomicBoolean();
                AtomicLong requests = new AtomicLong();
                ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
                ExecutorService clients = Executors.newFixedThreadPool(8);
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    futures.add(clients.submit(() -> {
                        Random random = new Random(seed);
                        Map<Long, Long> lastRound = new HashMap<>();
                        var stub = ServingServiceGrpc.newBlockingStub(channel);
                        while (!done.get()) {
                            RepeatedValue.Builder ids = RepeatedValue.newBuilder();
                            for (int i = 0; i < 10; i++) {
                                ids.addVal(Value.newBuilder().setInt64Val(random.nextInt(USERS)));
                            }
                            try {
                                GetOnlineFeaturesResponse response = stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(
                                        GetOnlineFeaturesRequest.newBuilder()
                                                .setFeatures(FeatureList.newBuilder().addVal("user_stats:clicks").addVal("user_stats:dwell"))
                                                .putEntities("user_id", ids.build()).build());
                                for (int row = 0; row < 10; row++) {
                                    long user = ids.getVal(row).getInt64Val();
                                    if (response.getResults(1).getStatuses(row) != FieldStatus.PRESENT) {
                                        problems.add("user " + user + " not present: " + response.getResults(1).getStatuses(row));
                                        continue;
                                    }
                                    long clicks = response.getResults(1).getValues(row).getInt64Val();
                                    double dwell = response.getResults(2).getValues(row).getDoubleVal();
                                    if (dwell != clicks + 0.5 || clicks % 100_000 != user) {
                                        problems.add("torn row for user " + user + ": clicks " + clicks + ", dwell " + dwell);
                                    }
                                    long round = clicks / 100_000;
                                    Long before = lastRound.put(user, round);
                                    if (before != null && before > round) {
                                        problems.add("user " + user + " went back from round " + before + " to " + round);
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
                for (int round = 1; round <= ROUNDS; round++) {
                    fixture.userStats(round(round, base));
                    materializer.materializeIncremental(List.of("user_stats"), Instant.now().plusSeconds(3600));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                GetOnlineFeaturesResponse last;
                do {
                    last = ServingServiceGrpc.newBlockingStub(channel).getOnlineFeatures(GetOnlineFeaturesRequest.newBuilder()
                            .setFeatures(FeatureList.newBuilder().addVal("user_stats:clicks"))
                            .putEntities("user_id", RepeatedValue.newBuilder().addVal(Value.newBuilder().setInt64Val(USERS - 1)).build()).build());
                } while (last.getResults(1).getValues(0).getInt64Val() / 100_000 < ROUNDS && System.nanoTime() < deadline);
                done.set(true);
                for (Future<?> future : futures) {
                    future.get(30, TimeUnit.SECONDS);
                }
                clients.shutdown();
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

                assertThat(problems).as("after " + requests.get() + " requests").isEmpty();
                assertThat(requests.get()).isGreaterThan(100);
                assertThat(last.getResults(1).getValues(0).getInt64Val() / 100_000).as("the last round reaches the server").isEqualTo(ROUNDS);
            } finally {
                writer.close();
            }
        }
    }
}
