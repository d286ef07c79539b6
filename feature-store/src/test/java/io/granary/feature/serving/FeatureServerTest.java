package io.granary.feature.serving;

import static io.granary.feature.testing.FeatureStoreFixture.DEFINITIONS;
import static io.granary.feature.testing.FeatureStoreFixture.column;
import static io.granary.feature.testing.FeatureStoreFixture.int64;
import static io.granary.feature.testing.FeatureStoreFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetFeastServingInfoRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingServiceGrpc;
import feast.proto.types.ValueProto.RepeatedValue;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.testing.FeatureStoreFixture;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server on 127.0.0.1 and free ports, called over real gRPC and HTTP. */
class FeatureServerTest {

    @TempDir
    Path dir;

    FeatureStoreFixture fixture;
    FeatureServer server;
    ManagedChannel channel;
    HttpClient http = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void setUp() {
        fixture = new FeatureStoreFixture(dir);
        Instant now = Instant.now();
        fixture.userStats("1," + now.minusSeconds(3600) + "," + now.minusSeconds(3000) + ",7,1.5");
        fixture.itemStats("{\"item_id\": \"a\", \"event_ts\": \"2026-01-01T00:00:00Z\", \"ctr\": 0.1, \"tags\": [\"x\"]}");
        fixture.apply(DEFINITIONS);
        try (RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(fixture.onlinePath)) {
            new Materializer(fixture.datasets, fixture.registry.load(), writer).materialize(List.of(), Instant.EPOCH, now.plusSeconds(60));
        }
    }

    private void start(Optional<String> token) {
        ServerSettings settings = ServerSettings.defaults().withPorts("127.0.0.1", 0, 0).withToken(token);
        settings = new ServerSettings(settings.host(), 0, 0, token, Duration.ofMillis(20), Duration.ofMillis(50));
        server = new FeatureServer(fixture.registry, fixture.onlinePath, settings, "granary-test");
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
        fixture.close();
    }

    private ServingServiceGrpc.ServingServiceBlockingStub stub() {
        return ServingServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private HttpResponse<String> post(String body, Optional<String> token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/get-online-features"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void grpcAnswersLikeFeast() {
        start(Optional.empty());
        assertThat(stub().getFeastServingInfo(GetFeastServingInfoRequest.getDefaultInstance()).getVersion()).isEqualTo("granary-test");

        GetOnlineFeaturesResponse response = stub().getOnlineFeatures(request(List.of("user_stats:clicks", "user_stats:dwell"), "user_id", int64(1), int64(2)));

        assertThat(response.getMetadata().getFeatureNames().getValList()).containsExactly("user_id", "clicks", "dwell");
        assertThat(column(response, "clicks").getValues(0).getInt64Val()).isEqualTo(7);
        assertThat(column(response, "clicks").getStatusesList()).containsExactly(FieldStatus.PRESENT, FieldStatus.NOT_FOUND);

        assertThatThrownBy(() -> stub().getOnlineFeatures(request(List.of("user_stats:nope"), "user_id", int64(1))))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("unknown feature 'user_stats:nope'");
                });
        GetOnlineFeaturesRequest unequal = GetOnlineFeaturesRequest.newBuilder().setFeatureService("ranking")
                .putEntities("user_id", RepeatedValue.newBuilder().addVal(int64(1)).addVal(int64(2)).build())
                .putEntities("item_id", RepeatedValue.newBuilder().build()).build();
        assertThatThrownBy(() -> stub().getOnlineFeatures(unequal))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("entity columns differ in length");
                });
    }

    @Test
    void httpAnswersLikeFeastsPythonServer() throws Exception {
        start(Optional.empty());
        HttpResponse<String> response = post("{\"features\": [\"user_stats:clicks\", \"item_stats:tags\"], "
                + "\"entities\": {\"user_id\": [1, 2], \"item_id\": [\"a\", \"b\"]}, \"full_feature_names\": true}", Optional.empty());

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.at("/metadata/feature_names").toString()).isEqualTo("[\"user_id\",\"item_id\",\"user_stats__clicks\",\"item_stats__tags\"]");
        assertThat(body.at("/results/2/values").toString()).isEqualTo("[7,null]");
        assertThat(body.at("/results/2/statuses").toString()).isEqualTo("[\"PRESENT\",\"NOT_FOUND\"]");
        assertThat(body.at("/results/3/values/0").toString()).isEqualTo("[\"x\"]");
        assertThat(body.at("/results/2/event_timestamps/1").asText()).isEqualTo("1970-01-01T00:00:00Z");

        HttpResponse<String> unknown = post("{\"features\": [\"user_stats:nope\"], \"entities\": {\"user_id\": [1]}}", Optional.empty());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").asText()).isEqualTo("unknown feature 'user_stats:nope'");
        assertThat(post("{not json", Optional.empty()).statusCode()).isEqualTo(400);
        assertThat(post("{\"features\": [\"user_stats:clicks\"], \"entities\": {\"user_id\": [1]}, \"colour\": 1}", Optional.empty()).body())
                .contains("unknown key 'colour'");

        assertThat(get("/health").statusCode()).isEqualTo(200);
        String metrics = get("/metrics").body();
        assertThat(metrics).contains("granary_feature_requests_total{outcome=\"ok\",protocol=\"http\"} 1.0")
                .contains("granary_feature_lookups_total{view=\"user_stats\"}")
                .contains("granary_feature_request_seconds_bucket")
                .contains("granary_feature_errors_total{protocol=\"http\",status=\"404\"} 1.0");
    }

    /** One HTTP/1.1 exchange on an open connection: the request's bytes out, the status line and the body (by Content-Length) back. */
    private static String[] exchange(java.net.Socket socket, String request) throws Exception {
        socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
        java.io.InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("the server closed the connection after: " + head);
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return new String[] {head.toString().split("\r\n")[0], head.toString(), new String(in.readNBytes(length), java.nio.charset.StandardCharsets.UTF_8)};
    }

    @Test
    void httpKeepsConnectionsOpenAndNamesWhatIsWrongWithARequest() throws Exception {
        start(Optional.empty());
        String body = "{\"features\": [\"user_stats:clicks\"], \"entities\": {\"user_id\": [1]}}";
        String lookup = "POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body;
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.httpPort())) {
            socket.setSoTimeout(10_000);
            // many requests, one connection
            for (int i = 0; i < 50; i++) {
                String[] answer = exchange(socket, lookup);
                assertThat(answer[0]).isEqualTo("HTTP/1.1 200 OK");
                assertThat(JSON.readTree(answer[2]).at("/results/1/values/0").asLong()).isEqualTo(7);
            }
            String[] wrongMethod = exchange(socket, "GET /get-online-features HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(wrongMethod[0]).isEqualTo("HTTP/1.1 405 Method Not Allowed");
            assertThat(wrongMethod[2]).contains("use POST");
            String[] noSuchPath = exchange(socket, "GET /get-features HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(noSuchPath[0]).isEqualTo("HTTP/1.1 404 Not Found");
            assertThat(noSuchPath[2]).contains("no such path: /get-features");
            // the connection still answers after errors
            assertThat(exchange(socket, lookup)[0]).isEqualTo("HTTP/1.1 200 OK");
            // a body over the limit is refused from its Content-Length, before it is sent, and the connection closed
            String[] tooLarge = exchange(socket, "POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Length: " + (17 << 20) + "\r\n\r\n");
            assertThat(tooLarge[0]).isEqualTo("HTTP/1.1 413 Request Entity Too Large");
            assertThat(tooLarge[2]).contains("larger than 16 MiB");
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        // a client asking to close gets its answer, then the close
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.httpPort())) {
            socket.setSoTimeout(10_000);
            String[] answer = exchange(socket, lookup.replace("Host: x\r\n", "Host: x\r\nConnection: close\r\n"));
            assertThat(answer[0]).isEqualTo("HTTP/1.1 200 OK");
            assertThat(answer[1].toLowerCase(java.util.Locale.ROOT)).contains("connection: close");
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void aTakenHttpPortIsNamedAndNothingIsLeftListening() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            ServerSettings settings = new ServerSettings("127.0.0.1", 0, taken.getLocalPort(), Optional.empty(), Duration.ofMillis(20), Duration.ofMillis(50));
            assertThatThrownBy(() -> new FeatureServer(fixture.registry, fixture.onlinePath, settings, "granary-test"))
                    .isInstanceOf(io.granary.common.GranaryException.class)
                    .hasMessageContaining("cannot listen for HTTP on 127.0.0.1:" + taken.getLocalPort() + ": the port is in use");
        }
        // the store was let go of: a server starts on it at once
        start(Optional.empty());
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void aTokenIsRequiredOnBothProtocolsWhenSet() throws Exception {
        start(Optional.of("s3cret"));
        assertThatThrownBy(() -> stub().getOnlineFeatures(request(List.of("user_stats:clicks"), "user_id", int64(1))))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        Metadata wrong = new Metadata();
        wrong.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer guess");
        assertThatThrownBy(() -> stub().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(wrong))
                .getOnlineFeatures(request(List.of("user_stats:clicks"), "user_id", int64(1))))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        Metadata right = new Metadata();
        right.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer s3cret");
        assertThat(stub().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(right))
                .getOnlineFeatures(request(List.of("user_stats:clicks"), "user_id", int64(1))).getResultsCount()).isEqualTo(2);

        String body = "{\"features\": [\"user_stats:clicks\"], \"entities\": {\"user_id\": [1]}}";
        assertThat(post(body, Optional.empty()).statusCode()).isEqualTo(401);
        assertThat(post(body, Optional.of("guess")).statusCode()).isEqualTo(401);
        assertThat(post(body, Optional.of("s3cret")).statusCode()).isEqualTo(200);
        assertThat(get("/metrics").statusCode()).isEqualTo(401);
        assertThat(get("/health").statusCode()).as("probes need no token").isEqualTo(200);
    }

    @Test
    void theRegistryIsReloadedWhileServing() throws Exception {
        start(Optional.empty());
        assertThatThrownBy(() -> stub().getOnlineFeatures(request(List.of("user_stats:clicks_again"), "user_id", int64(1))))
                .isInstanceOf(StatusRuntimeException.class);
        String[] changed = DEFINITIONS.clone();
        changed[10] = "      - {name: dwell, dtype: DOUBLE}\n  - name: user_stats_v2\n    entities: [user]\n    source: {dataset: demo.user_stats, timestamp_field: event_ts}\n    features:\n      - {name: clicks, dtype: INT64}";
        fixture.apply(changed);
        try (RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(fixture.onlinePath)) {
            new Materializer(fixture.datasets, fixture.registry.load(), writer).materialize(List.of("user_stats_v2"), Instant.EPOCH, Instant.now().plusSeconds(60));
        }

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        GetOnlineFeaturesResponse response = null;
        while (response == null && System.nanoTime() < deadline) {
            try {
                GetOnlineFeaturesResponse candidate = stub().getOnlineFeatures(request(List.of("user_stats_v2:clicks"), "user_id", int64(1)));
                if (candidate.getResults(1).getStatuses(0) == FieldStatus.PRESENT) {
                    response = candidate;
                }
            } catch (StatusRuntimeException notYet) {
                Thread.onSpinWait();
            }
        }
        assertThat(response).as("the new view is served without a restart").isNotNull();
        assertThat(column(response, "clicks").getValues(0).getInt64Val()).isEqualTo(7);
    }
}
