package io.granary.feature.serving;

import static io.granary.feature.testing.FeatureStoreFixture.DEFINITIONS;
import static io.granary.feature.testing.FeatureStoreFixture.column;
import static io.granary.feature.testing.FeatureStoreFixture.int64;
import static io.granary.feature.testing.FeatureStoreFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingServiceGrpc;
import io.granary.common.GranaryException;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.LocalRedis;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.online.RedisSettings;
import io.granary.feature.testing.FeatureStoreFixture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The feature server over a password-protected redis-server that goes down and comes back. */
class RedisServingTest {

    static final String PASSWORD = "s3cret-pass";

    @TempDir
    Path dir;

    @Test
    void servesFromRedisAnswersUnavailableWhileItIsDownAndRecoversWhenItIsBack() throws Exception {
        Instant now = Instant.now();
        try (FeatureStoreFixture fixture = new FeatureStoreFixture(dir); LocalRedis redis = LocalRedis.start(dir.resolve("redis"), Optional.of(PASSWORD))) {
            fixture.userStats("1," + now.minusSeconds(3600) + "," + now.minusSeconds(3000) + ",7,1.5");
            fixture.itemStats("{\"item_id\": \"a\", \"event_ts\": \"2026-01-01T00:00:00Z\", \"ctr\": 0.1, \"tags\": [\"x\"]}");
            fixture.apply(DEFINITIONS);
            RedisSettings settings = RedisSettings.fromUrl("redis://:" + PASSWORD + "@127.0.0.1:" + redis.port())
                    .withOptions(false, "granary", false, Duration.ofMillis(500));

            RedisSettings noPassword = settings.withCredentials(Optional.empty(), Optional.empty());
            assertThatThrownBy(noPassword::openWriter).isInstanceOf(GranaryException.class).hasMessageContaining("Redis refused Granary's credentials")
                    .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("online_store.password"));
            RedisSettings wrongPassword = settings.withCredentials(Optional.empty(), Optional.of("wrong"));
            assertThatThrownBy(wrongPassword::openWriter).isInstanceOf(GranaryException.class).hasMessageContaining("Redis refused Granary's credentials");

            try (OnlineStore writer = settings.openWriter()) {
                new Materializer(fixture.datasets, fixture.registry.load(), writer).materialize(List.of(), Instant.EPOCH, now.plusSeconds(60));
            }
            ServerSettings serverSettings = new ServerSettings("127.0.0.1", 0, 0, Optional.empty(), Duration.ofMillis(50), Duration.ofSeconds(1));
            try (FeatureServer server = new FeatureServer(fixture.registry, settings, serverSettings, "test")) {
                ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
                var stub = ServingServiceGrpc.newBlockingStub(channel);
                GetOnlineFeaturesRequest request = request(List.of("user_stats:clicks"), "user_id", int64(1));
                assertThat(column(stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(request), "clicks").getValues(0).getInt64Val())
                        .isEqualTo(7);
                assertThat(health(server)).isEqualTo(200);
                // over HTTP too (a Redis lookup is answered off the connection's event loop)
                HttpResponse<String> answer = lookup(server);
                assertThat(answer.statusCode()).isEqualTo(200);
                assertThat(answer.body()).contains("\"values\":[7]");

                redis.stop(0);
                assertThatThrownBy(() -> stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(request))
                        .isInstanceOf(StatusRuntimeException.class)
                        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE))
                        .hasMessageContaining("cannot read the online store redis://127.0.0.1:" + redis.port());
                awaitHealth(server, 503);
                HttpResponse<String> down = lookup(server);
                assertThat(down.statusCode()).isEqualTo(503);
                assertThat(down.body()).contains("cannot read the online store redis://127.0.0.1:" + redis.port());
                fixture.userStats("1," + now.minusSeconds(60) + "," + now.minusSeconds(50) + ",8,2.5");
                assertThatThrownBy(settings::openWriter).isInstanceOf(GranaryException.class)
                        .hasMessageContaining("redis://127.0.0.1:" + redis.port());

                redis.restart(0);
                awaitHealth(server, 200);
                assertThat(column(stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(request), "clicks").getValues(0).getInt64Val())
                        .as("the saved rows are back, and the server answers again by itself").isEqualTo(7);
                try (OnlineStore writer = settings.openWriter()) {
                    new Materializer(fixture.datasets, fixture.registry.load(), writer).materializeIncremental(List.of(), now.plusSeconds(60));
                }
                assertThat(column(stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(request), "clicks").getValues(0).getInt64Val())
                        .as("the rerun carried on").isEqualTo(8);
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static HttpResponse<String> lookup(FeatureServer server) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/get-online-features"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"features\": [\"user_stats:clicks\"], \"entities\": {\"user_id\": [1]}}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int health(FeatureServer server) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        return response.statusCode();
    }

    private static void awaitHealth(FeatureServer server, int status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (health(server) != status) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("/health never answered " + status);
            }
            Thread.sleep(20);
        }
    }
}
