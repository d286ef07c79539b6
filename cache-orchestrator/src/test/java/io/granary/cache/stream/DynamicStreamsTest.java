package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.cache.CacheFixture;
import io.granary.cache.NodeCache;
import io.granary.dataset.DatasetName;
import io.granary.packer.PackOptions;
import io.granary.packer.Packer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dynamic mode through a real Flight server and stock Flight clients: workers lease units, stragglers and dead workers. */
class DynamicStreamsTest {

    @TempDir
    Path temp;

    private static FlightDescriptor command(String json) {
        return FlightDescriptor.command(json.getBytes(StandardCharsets.UTF_8));
    }

    private static FlightClient client(BufferAllocator allocator, DataServer server) {
        return FlightClient.builder(allocator, Location.forGrpcInsecure("127.0.0.1", server.port())).build();
    }

    /**
     * Reads a ticket's stream, sleeping {@code pauseMillis} after each batch, the ids received; a
     * dynamic worker asks again (each call is one unit) until a stream comes back empty.
     */
    private static List<Long> readIds(FlightClient client, Ticket ticket, long pauseMillis, boolean dynamic) throws InterruptedException {
        List<Long> ids = new ArrayList<>();
        boolean more = true;
        while (more) {
            more = false;
            try (FlightStream stream = client.getStream(ticket)) {
                while (stream.next()) {
                    more = dynamic;
                    BigIntVector id = (BigIntVector) stream.getRoot().getVector("id");
                    for (int r = 0; r < stream.getRoot().getRowCount(); r++) {
                        ids.add(id.get(r));
                    }
                    if (pauseMillis > 0) {
                        Thread.sleep(pauseMillis);
                    }
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return ids;
    }

    /**
     * A dynamic worker's ids over one DoExchange with a stock Flight client: each unit's end message
     * (a message without rows) is sent back once the unit is read; stops after {@code stopAfter} ids
     * (cancelling the call, as a killed worker's connection ends).
     */
    private static List<Long> exchangeIds(FlightClient client, Ticket ticket, long pauseMillis, int stopAfter) throws Exception {
        List<Long> ids = new ArrayList<>();
        try (BufferAllocator allocator = new RootAllocator()) {
            FlightClient.ExchangeReaderWriter exchange = client.doExchange(FlightDescriptor.command(ticket.getBytes()));
            try {
                FlightStream reader = exchange.getReader();
                while (reader.next()) {
                    if (reader.getRoot().getRowCount() == 0) {
                        ArrowBuf end = reader.getLatestMetadata();
                        ArrowBuf acknowledgement = allocator.buffer(end.readableBytes());
                        acknowledgement.setBytes(0, end, 0, end.readableBytes());
                        acknowledgement.writerIndex(end.readableBytes());
                        exchange.getWriter().putMetadata(acknowledgement);
                        continue;
                    }
                    BigIntVector id = (BigIntVector) reader.getRoot().getVector("id");
                    for (int r = 0; r < reader.getRoot().getRowCount(); r++) {
                        ids.add(id.get(r));
                    }
                    if (ids.size() >= stopAfter) {
                        reader.cancel("a killed worker", null);
                        return ids;
                    }
                    if (pauseMillis > 0) {
                        Thread.sleep(pauseMillis);
                    }
                }
            } finally {
                try {
                    exchange.close();
                } catch (Exception e) {
                    // a cancelled call ends with its cancellation
                }
            }
        }
        return ids;
    }

    private interface Worker {
        List<Long> read(FlightClient client, Ticket ticket, long pauseMillis) throws Exception;
    }

    /** Reads all endpoints at once, endpoint 0 slowed; the wall time in ms, and every id received. */
    private static long epoch(FlightClient client, FlightInfo info, long slowPause, boolean dynamic, Map<Long, Integer> seen) throws Exception {
        return epoch(client, info, slowPause, (c, ticket, pause) -> readIds(c, ticket, pause, dynamic), seen);
    }

    private static long epoch(FlightClient client, FlightInfo info, long slowPause, Worker worker, Map<Long, Integer> seen) throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(info.getEndpoints().size());
        try {
            long start = System.nanoTime();
            List<Future<List<Long>>> results = new ArrayList<>();
            for (int w = 0; w < info.getEndpoints().size(); w++) {
                Ticket ticket = info.getEndpoints().get(w).getTicket();
                long pause = w == 0 ? slowPause : 0;
                results.add(workers.submit(() -> worker.read(client, ticket, pause)));
            }
            for (Future<List<Long>> result : results) {
                result.get().forEach(id -> seen.merge(id, 1, Integer::sum));
            }
            return (System.nanoTime() - start) / 1_000_000;
        } finally {
            workers.shutdownNow();
        }
    }

    @Test
    void withOneSlowWorkerDynamicDeliversEveryRowOnceAndFinishesBeforeStatic() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 16, 100, 3);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, "127.0.0.1", 0);
                 BufferAllocator allocator = new RootAllocator();
                 FlightClient client = client(allocator, server)) {
                String common = "\"dataset\": \"demo.events\", \"world_size\": 4, \"batch_rows\": 25, \"shuffle\": \"units\", \"seed\": 5";
                FlightInfo dynamicInfo = client.getInfo(command("{" + common + ", \"mode\": \"dynamic\"}"));
                assertThat(dynamicInfo.getEndpoints()).hasSize(4);
                assertThat(dynamicInfo.getRecords()).isEqualTo(1600);
                Map<Long, Integer> dynamicSeen = new HashMap<>();
                long dynamicMillis = epoch(client, dynamicInfo, 40, true, dynamicSeen);
                assertThat(dynamicSeen).hasSize(1600);
                assertThat(dynamicSeen.values()).allMatch(n -> n == 1);

                Map<Long, Integer> staticSeen = new HashMap<>();
                long staticMillis = epoch(client, client.getInfo(command("{" + common + "}")), 40, false, staticSeen);
                assertThat(staticSeen).hasSize(1600);
                // static: the slow rank reads its 400 rows (16 batches, 640 ms of pauses); dynamic: it reads a unit or two while the others take the rest
                assertThat(dynamicMillis).as("dynamic %d ms, static %d ms", dynamicMillis, staticMillis).isLessThan(staticMillis);

                // the same over DoExchange (each worker one call for the epoch, units acknowledged)
                FlightInfo exchangeInfo = client.getInfo(command("{" + common + ", \"mode\": \"dynamic\", \"epoch\": 2}"));
                Map<Long, Integer> exchangeSeen = new HashMap<>();
                long exchangeMillis = epoch(client, exchangeInfo, 40, (c, ticket, pause) -> exchangeIds(c, ticket, pause, Integer.MAX_VALUE), exchangeSeen);
                assertThat(exchangeSeen).hasSize(1600);
                assertThat(exchangeSeen.values()).allMatch(n -> n == 1);
                assertThat(exchangeMillis).as("exchange %d ms, static %d ms", exchangeMillis, staticMillis).isLessThan(staticMillis);
                assertThat(exchangeIds(client, exchangeInfo.getEndpoints().get(1).getTicket(), 0, Integer.MAX_VALUE)).isEmpty();

                // the epoch is done: asking again for it sends nothing, a new epoch everything
                assertThat(readIds(client, dynamicInfo.getEndpoints().get(2).getTicket(), 0, true)).isEmpty();
                FlightInfo next = client.getInfo(command("{" + common + ", \"mode\": \"dynamic\", \"epoch\": 1}"));
                assertThat(readIds(client, next.getEndpoints().get(0).getTicket(), 0, true)).hasSize(1600);
            }
        }
    }

    /** A packed set of big samples (4 MiB each), so that a unit does not fit the transport's buffers and a worker can die part way. */
    private static void packBig(CacheFixture fixture, Path dir) throws Exception {
        Path source = dir.resolve("big");
        java.util.Random random = new java.util.Random(1);
        for (int s = 0; s < 24; s++) {
            byte[] data = new byte[4 << 20];
            random.nextBytes(data);
            Files.createDirectories(source.resolve("spk"));
            Files.write(source.resolve("spk/utt" + s + ".wav"), data);
        }
        new Packer(fixture.datasets, false).pack(PackOptions.builder(source, dir.resolve("shards"))
                .dataset(DatasetName.parse("demo.big")).samplesPerShard(12).build());
    }

    /** A dynamic worker's keys: one unit per call until an empty stream, or {@code stopAfter} keys (then it cancels, as a killed worker's connection ends). */
    private static List<String> readKeys(FlightClient client, Ticket ticket, int stopAfter) throws Exception {
        List<String> keys = new ArrayList<>();
        boolean more = true;
        while (more) {
            more = false;
            try (FlightStream stream = client.getStream(ticket)) {
                while (stream.next()) {
                    more = true;
                    VarCharVector key = (VarCharVector) stream.getRoot().getVector("__key__");
                    for (int r = 0; r < stream.getRoot().getRowCount(); r++) {
                        keys.add(new String(key.get(r), StandardCharsets.UTF_8));
                    }
                    if (keys.size() >= stopAfter) {
                        stream.cancel("a killed worker", null);
                        return keys;
                    }
                }
            }
        }
        return keys;
    }

    @Test
    void aWorkerThatDiesPartWayHasItsUnitLeasedToAnother() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            packBig(fixture, temp);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, StreamSettings.defaults().withListen("127.0.0.1", 0, 0));
                 BufferAllocator allocator = new RootAllocator()) {
                String descriptor = "{\"dataset\": \"demo.big\", \"mode\": \"dynamic\", \"batch_rows\": 1, \"world_size\": 2}";
                FlightInfo info;
                List<String> partial;
                try (FlightClient killed = client(allocator, server)) {
                    info = killed.getInfo(command(descriptor));
                    partial = readKeys(killed, info.getEndpoints().get(0).getTicket(), 2);
                }
                assertThat(partial).hasSize(2);
                try (FlightClient survivor = client(allocator, server)) {
                    List<String> all = readKeys(survivor, info.getEndpoints().get(1).getTicket(), Integer.MAX_VALUE);
                    assertThat(all).hasSize(24).doesNotHaveDuplicates().containsAll(partial);
                }
                String metrics = new String(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body(), StandardCharsets.UTF_8);
                assertThat(metrics).contains("granary_stream_units_released_total 1.0").contains("granary_stream_units_leased_total 3.0")
                        .contains("granary_stream_rows_sent_total{mode=\"dynamic\"}");
            }
        }
    }

    @Test
    void aWorkerThatStopsReadingLosesItsLeaseAfterTheTimeout() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            packBig(fixture, temp);
            StreamSettings settings = StreamSettings.defaults().withListen("127.0.0.1", 0, -1).withLeaseTimeout(Duration.ofMillis(500));
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, settings);
                 BufferAllocator allocator = new RootAllocator();
                 FlightClient hung = client(allocator, server);
                 FlightClient other = client(allocator, server)) {
                FlightInfo info = hung.getInfo(command("{\"dataset\": \"demo.big\", \"mode\": \"dynamic\", \"batch_rows\": 1, \"world_size\": 2}"));
                try (FlightStream stalled = hung.getStream(info.getEndpoints().get(0).getTicket())) {
                    assertThat(stalled.next()).isTrue();
                    String first = new String(((VarCharVector) stalled.getRoot().getVector("__key__")).get(0), StandardCharsets.UTF_8);
                    // the hung worker reads no more; the other one gets every unit, the hung one's whole after its lease ran out
                    List<String> all = readKeys(other, info.getEndpoints().get(1).getTicket(), Integer.MAX_VALUE);
                    assertThat(all).hasSize(24).doesNotHaveDuplicates().contains(first);
                    // when the hung worker reads on, it is told its unit went elsewhere
                    assertThatThrownBy(() -> {
                        while (stalled.next()) {
                            // drain what the transport held
                        }
                    }).isInstanceOf(FlightRuntimeException.class).hasMessageContaining("made no progress").hasMessageContaining("another worker");
                }
            }
        }
    }

    @Test
    void overExchangeAWorkerThatStopsOrDiesGivesBackWhatItDidNotAcknowledge() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 16, 100, 3);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, "127.0.0.1", 0);
                 BufferAllocator allocator = new RootAllocator();
                 FlightClient client = client(allocator, server)) {
                DataStream.Server address = new DataStream.Server("127.0.0.1", server.port(), java.util.Optional.empty());
                StreamRequest request = StreamRequest.of("demo.events", 2).with("batch_rows", 25).with("mode", "dynamic");
                // stops after a unit and a half: the first unit was acknowledged, the one under way (and any leased ahead) go back
                List<Long> stopped = new ArrayList<>();
                try (DataStream early = DataStream.openWorker(address, request, "early")) {
                    while (stopped.size() < 150 && early.next()) {
                        BigIntVector id = (BigIntVector) early.batch().getVector("id");
                        for (int r = 0; r < early.batch().getRowCount(); r++) {
                            stopped.add(id.get(r));
                        }
                    }
                }
                List<Long> rest = new ArrayList<>();
                try (DataStream late = DataStream.openWorker(address, request, "late")) {
                    while (late.next()) {
                        BigIntVector id = (BigIntVector) late.batch().getVector("id");
                        for (int r = 0; r < late.batch().getRowCount(); r++) {
                            rest.add(id.get(r));
                        }
                    }
                }
                assertThat(rest).hasSize(1500).doesNotHaveDuplicates().doesNotContainAnyElementsOf(stopped.subList(0, 100))
                        .containsAll(stopped.subList(100, 150));

                // a worker killed in its first unit (its call cancelled, nothing acknowledged): the whole epoch goes to the other
                FlightInfo info = client.getInfo(command("{\"dataset\": \"demo.events\", \"world_size\": 2, \"batch_rows\": 25, \"mode\": \"dynamic\", \"epoch\": 1}"));
                assertThat(exchangeIds(client, info.getEndpoints().get(0).getTicket(), 0, 50)).hasSize(50);
                assertThat(exchangeIds(client, info.getEndpoints().get(1).getTicket(), 0, Integer.MAX_VALUE)).hasSize(1600).doesNotHaveDuplicates();

                // DoExchange is for dynamic streams; what a worker sends back must be an end message it was sent
                FlightInfo staticInfo = client.getInfo(command("{\"dataset\": \"demo.events\", \"world_size\": 2}"));
                assertThatThrownBy(() -> exchangeIds(client, staticInfo.getEndpoints().get(0).getTicket(), 0, Integer.MAX_VALUE))
                        .isInstanceOf(FlightRuntimeException.class).hasMessageContaining("DoExchange reads dynamic streams");
                FlightInfo third = client.getInfo(command("{\"dataset\": \"demo.events\", \"world_size\": 2, \"batch_rows\": 25, \"mode\": \"dynamic\", \"epoch\": 3}"));
                try (BufferAllocator acks = new RootAllocator();
                     FlightClient.ExchangeReaderWriter exchange = client.doExchange(FlightDescriptor.command(third.getEndpoints().get(0).getTicket().getBytes()))) {
                    byte[] foreign = "{\"ack\": 999}".getBytes(StandardCharsets.UTF_8);
                    ArrowBuf buffer = acks.buffer(foreign.length);
                    buffer.setBytes(0, foreign);
                    buffer.writerIndex(foreign.length);
                    exchange.getWriter().putMetadata(buffer);
                    assertThatThrownBy(() -> {
                        while (exchange.getReader().next()) {
                            // the first unit's rows, until the server reads the foreign acknowledgement
                        }
                    }).isInstanceOf(FlightRuntimeException.class).hasMessageContaining("acknowledged unit serial 999");
                }
            }
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void overExchangeAWorkerThatNeverAcknowledgesIsToldSoAndItsUnitsGoToAnother() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 16, 100, 3);
            StreamSettings settings = StreamSettings.defaults().withListen("127.0.0.1", 0, -1).withLeaseTimeout(Duration.ofMillis(500));
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, settings);
                 BufferAllocator allocator = new RootAllocator();
                 FlightClient client = client(allocator, server)) {
                FlightInfo info = client.getInfo(command("{\"dataset\": \"demo.events\", \"world_size\": 2, \"batch_rows\": 25, \"mode\": \"dynamic\"}"));
                int rows = 0;
                try (FlightClient.ExchangeReaderWriter silent = client.doExchange(FlightDescriptor.command(info.getEndpoints().get(0).getTicket().getBytes()))) {
                    FlightStream reader = silent.getReader();
                    try {
                        while (reader.next()) {
                            rows += reader.getRoot().getRowCount(); // never sends an end message back
                        }
                        throw new AssertionError("the stream ended without an error");
                    } catch (FlightRuntimeException e) {
                        assertThat(e).hasMessageContaining("did not acknowledge unit").hasMessageContaining("send back each unit's end message");
                    }
                }
                assertThat(rows).as("two units: the one read and the one leased ahead").isEqualTo(200);
                assertThat(exchangeIds(client, info.getEndpoints().get(1).getTicket(), 0, Integer.MAX_VALUE)).hasSize(1600).doesNotHaveDuplicates();
            }
        }
    }
}
