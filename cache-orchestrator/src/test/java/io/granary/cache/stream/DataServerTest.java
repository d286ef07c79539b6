package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.cache.CacheFixture;
import io.granary.cache.NodeCache;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real Flight server on 127.0.0.1 (port 0), read by Arrow's own Flight client. */
class DataServerTest {

    @TempDir
    Path temp;

    private static FlightDescriptor command(String json) {
        return FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void eachEndpointStreamsItsRanksRowsAndTogetherEveryRowOnce() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 4, 120, 1);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, "127.0.0.1", 0);
                 BufferAllocator allocator = new RootAllocator();
                 FlightClient client = FlightClient.builder(allocator, Location.forGrpcInsecure("127.0.0.1", server.port())).build()) {
                FlightInfo info = client.getInfo(command("{\"dataset\": \"demo.events\", \"world_size\": 4, \"batch_rows\": 50, "
                        + "\"shuffle\": \"units\", \"seed\": 1, \"drop_last\": true}"));
                assertThat(info.getSchema().getFields()).extracting(f -> f.getName()).containsExactly("id", "payload");
                assertThat(info.getEndpoints()).hasSize(4);
                assertThat(info.getRecords()).isEqualTo(480);
                Map<Long, Integer> seen = new HashMap<>();
                for (FlightEndpoint endpoint : info.getEndpoints()) {
                    long rows = 0;
                    try (FlightStream stream = client.getStream(endpoint.getTicket())) {
                        while (stream.next()) {
                            BigIntVector id = (BigIntVector) stream.getRoot().getVector("id");
                            assertThat(stream.getRoot().getRowCount()).isLessThanOrEqualTo(50);
                            for (int r = 0; r < stream.getRoot().getRowCount(); r++) {
                                seen.merge(id.get(r), 1, Integer::sum);
                                rows++;
                            }
                        }
                    }
                    assertThat(rows).isEqualTo(120);
                }
                assertThat(seen).hasSize(480);
                assertThat(seen.values()).allMatch(n -> n == 1);

                assertThatThrownBy(() -> client.getInfo(command("{\"dataset\": \"demo.events\", \"batch_rows\": 0}")))
                        .isInstanceOfSatisfying(FlightRuntimeException.class, e -> {
                            assertThat(e.status().code()).isEqualTo(CallStatus.INVALID_ARGUMENT.code());
                            assertThat(e.getMessage()).contains("'batch_rows'");
                        });
                assertThatThrownBy(() -> client.getInfo(command("{\"dataset\": \"demo.nope\"}")))
                        .isInstanceOfSatisfying(FlightRuntimeException.class, e -> assertThat(e.getMessage()).contains("demo.nope"));
                assertThatThrownBy(() -> client.getInfo(command("not json")))
                        .isInstanceOfSatisfying(FlightRuntimeException.class, e -> assertThat(e.getMessage()).contains("not valid JSON"));
            }
        }
    }

    @Test
    void theHttpStreamIsTheSameRowsAsFlightInArrowsIpcStreamFormat() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 3, 80, 2);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, "127.0.0.1", 0, 0);
                 BufferAllocator allocator = new RootAllocator();
                 FlightClient client = FlightClient.builder(allocator, Location.forGrpcInsecure("127.0.0.1", server.port())).build()) {
                String descriptor = "{\"dataset\": \"demo.events\", \"world_size\": 2, \"shuffle\": \"units\", \"seed\": 9, \"batch_rows\": 64}";
                FlightInfo info = client.getInfo(command(descriptor));
                java.util.List<Long> viaFlight = new java.util.ArrayList<>();
                try (FlightStream stream = client.getStream(info.getEndpoints().get(1).getTicket())) {
                    while (stream.next()) {
                        BigIntVector id = (BigIntVector) stream.getRoot().getVector("id");
                        for (int r = 0; r < stream.getRoot().getRowCount(); r++) {
                            viaFlight.add(id.get(r));
                        }
                    }
                }
                java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                String base = "http://127.0.0.1:" + server.httpPort() + "/v1/stream?";
                java.net.http.HttpResponse<java.io.InputStream> response = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        base + "dataset=demo.events&rank=1&world_size=2&shuffle=units&seed=9&batch_rows=64")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofInputStream());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.headers().firstValue("Content-Type")).contains("application/vnd.apache.arrow.stream");
                java.util.List<Long> viaHttp = new java.util.ArrayList<>();
                try (java.io.InputStream body = response.body();
                     org.apache.arrow.vector.ipc.ArrowStreamReader reader = new org.apache.arrow.vector.ipc.ArrowStreamReader(body, allocator)) {
                    while (reader.loadNextBatch()) {
                        BigIntVector id = (BigIntVector) reader.getVectorSchemaRoot().getVector("id");
                        for (int r = 0; r < reader.getVectorSchemaRoot().getRowCount(); r++) {
                            viaHttp.add(id.get(r));
                        }
                    }
                }
                assertThat(viaHttp).hasSize(120).isEqualTo(viaFlight);

                java.net.http.HttpResponse<String> bad = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        base + "dataset=demo.events&world_size=0")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(bad.statusCode()).isEqualTo(400);
                assertThat(bad.body()).contains("'world_size'");
                java.net.http.HttpResponse<String> rank = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        base + "dataset=demo.events&rank=2&world_size=2")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(rank.statusCode()).isEqualTo(400);
                assertThat(rank.body()).contains("rank 2 is out of range");
                java.net.http.HttpResponse<String> unknown = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        base + "dataset=demo.nope")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(unknown.statusCode()).isEqualTo(404);
                assertThat(unknown.body()).contains("demo.nope");
            }
        }
    }

    @Test
    void withATokenOnlyCallersThatSendItAreServedAndTheJavaClientReadsStaticAndDynamicStreams() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 3, 70, 4);
            StreamSettings settings = StreamSettings.defaults().withListen("127.0.0.1", 0, 0).withToken(java.util.Optional.of("s3cret"));
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, settings)) {
                DataStream.Server anonymous = new DataStream.Server("127.0.0.1", server.port(), java.util.Optional.empty());
                StreamRequest request = StreamRequest.of("demo.events", 2).with("batch_rows", 32).with("shuffle", "units").with("seed", 2);
                assertThatThrownBy(() -> DataStream.open(anonymous, request, 0)).isInstanceOf(io.granary.common.GranaryException.class)
                        .hasMessageContaining("wants a bearer token");
                assertThatThrownBy(() -> DataStream.open(anonymous.withToken("wrong"), request, 0)).hasMessageContaining("wants a bearer token");
                java.util.List<Long> ids = new java.util.ArrayList<>();
                for (int rank = 0; rank < 2; rank++) {
                    try (DataStream stream = DataStream.open(anonymous.withToken("s3cret"), request, rank)) {
                        assertThat(stream.schema().getFields()).extracting(f -> f.getName()).containsExactly("id", "payload");
                        assertThat(stream.totalRows()).isEqualTo(210);
                        while (stream.next()) {
                            BigIntVector id = (BigIntVector) stream.batch().getVector("id");
                            for (int r = 0; r < stream.batch().getRowCount(); r++) {
                                ids.add(id.get(r));
                            }
                        }
                    }
                }
                assertThat(ids).hasSize(210).doesNotHaveDuplicates();
                // dynamic: two workers, each over its own exchange; together the epoch once
                java.util.List<Long> dynamic = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                java.util.concurrent.ExecutorService workers = java.util.concurrent.Executors.newFixedThreadPool(2);
                try {
                    java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
                    for (String name : new String[] {"a", "b"}) {
                        done.add(workers.submit(() -> {
                            try (DataStream worker = DataStream.openWorker(anonymous.withToken("s3cret"), request.with("mode", "dynamic"), name)) {
                                while (worker.next()) {
                                    BigIntVector id = (BigIntVector) worker.batch().getVector("id");
                                    for (int r = 0; r < worker.batch().getRowCount(); r++) {
                                        dynamic.add(id.get(r));
                                    }
                                }
                            }
                            return null;
                        }));
                    }
                    for (java.util.concurrent.Future<?> worker : done) {
                        worker.get(60, java.util.concurrent.TimeUnit.SECONDS);
                    }
                } finally {
                    workers.shutdownNow();
                }
                assertThat(dynamic).hasSize(210).doesNotHaveDuplicates();
                java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                java.net.URI metrics = java.net.URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics");
                assertThat(http.send(java.net.http.HttpRequest.newBuilder(metrics).build(), java.net.http.HttpResponse.BodyHandlers.ofString())
                        .statusCode()).isEqualTo(401);
                String scraped = http.send(java.net.http.HttpRequest.newBuilder(metrics).header("Authorization", "Bearer s3cret").build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                assertThat(scraped).contains("granary_stream_rows_sent_total{mode=\"static\"} 210.0")
                        .contains("granary_stream_rows_sent_total{mode=\"dynamic\"} 210.0").contains("granary_stream_memory_limit_bytes");
            }
        }
    }

    @Test
    void foreignTicketsAMissingWorkerAndAServerThatGoesAwayAreNamed() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            // 32 MB: more than the transport's buffers hold, so the stream is under way when the server stops
            fixture.table("demo.events", 16, 2_000, 5);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 BufferAllocator allocator = new RootAllocator()) {
                DataServer server = new DataServer(cache, "127.0.0.1", 0, 0);
                try (FlightClient client = FlightClient.builder(allocator, Location.forGrpcInsecure("127.0.0.1", server.port())).build()) {
                    assertThatThrownBy(() -> {
                        try (FlightStream stream = client.getStream(new org.apache.arrow.flight.Ticket("3:{}".getBytes(StandardCharsets.UTF_8)))) {
                            stream.next();
                        }
                    }).isInstanceOfSatisfying(FlightRuntimeException.class, e -> {
                        assertThat(e.status().code()).isEqualTo(CallStatus.INVALID_ARGUMENT.code());
                        assertThat(e.getMessage()).contains("not a ticket of this server");
                    });
                }
                java.net.http.HttpResponse<String> noWorker = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + server.httpPort() + "/v1/stream?dataset=demo.events&mode=dynamic")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(noWorker.statusCode()).isEqualTo(400);
                assertThat(noWorker.body()).contains("'worker'");

                // the server stops while a trainer reads: the trainer is told, by a GranaryException naming the server
                int port = server.port();
                DataStream stream = DataStream.open(new DataStream.Server("127.0.0.1", port, java.util.Optional.empty()),
                        StreamRequest.of("demo.events", 1).with("batch_rows", 100), 0);
                try (stream) {
                    assertThat(stream.next()).isTrue();
                    server.close();
                    assertThatThrownBy(() -> {
                        while (stream.next()) {
                            // what the transport held, then the break
                        }
                    }).isInstanceOf(io.granary.common.GranaryException.class).hasMessageContaining("127.0.0.1:" + port)
                            .hasMessageContaining("stopping");
                }
            }
        }
    }
}
