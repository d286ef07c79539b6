package io.granary.feature.online;

import static io.granary.feature.testing.FeatureStoreFixture.DEFINITIONS;
import static io.granary.feature.testing.FeatureStoreFixture.column;
import static io.granary.feature.testing.FeatureStoreFixture.int64;
import static io.granary.feature.testing.FeatureStoreFixture.request;
import static io.granary.feature.testing.FeatureStoreFixture.statuses;
import static io.granary.feature.testing.FeatureStoreFixture.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.dataset.WriteResult;
import io.granary.feature.materialize.MaterializeResult;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.registry.RegistryState;
import io.granary.feature.serving.OnlineFeatures;
import io.granary.feature.testing.FeatureStoreFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The Redis online store against a real redis-server on loopback (each test under its own key prefix). */
class RedisOnlineStoreTest {

    @TempDir
    static Path redisDir;
    static LocalRedis redis;
    static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    Path dir;
    FeatureStoreFixture fixture;
    RedisSettings settings;

    static final Instant NOW = Instant.parse("2026-12-01T00:00:00Z");

    @BeforeAll
    static void startRedis() {
        redis = LocalRedis.start(redisDir, Optional.empty());
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @BeforeEach
    void setUp() {
        fixture = new FeatureStoreFixture(dir);
        settings = RedisSettings.fromUrl(redis.url()).withOptions(false, "t" + PREFIXES.incrementAndGet(), false, Duration.ofSeconds(2));
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    private RegistryState sampleData() {
        fixture.userStats(
                "1,2026-11-30T00:00:00Z,2026-11-30T01:00:00Z,7,1.5",
                "1,2026-11-30T00:00:00Z,2026-11-30T02:00:00Z,8,1.75",   // same event time, computed later: wins
                "2,2026-11-30T06:00:00Z,2026-11-30T07:00:00Z,4,",       // a null
                "3,2026-11-28T00:00:00Z,2026-11-28T01:00:00Z,9,2.5",    // older than the ttl
                "5,2026-11-30T08:00:00Z,2026-11-30T08:00:00Z,1,0.5",
                "5,2026-11-30T08:00:00Z,2026-11-30T08:00:00Z,2,0.75");  // a full tie: the row written later wins
        fixture.itemStats(
                "{\"item_id\": \"a\", \"event_ts\": \"2026-01-01T00:00:00Z\", \"ctr\": 0.1, \"tags\": [\"x\", \"y\"]}",
                "{\"item_id\": \"b\", \"event_ts\": \"2026-01-02T00:00:00Z\", \"ctr\": null, \"tags\": []}");
        return fixture.apply(DEFINITIONS);
    }

    private static OnlineFeatures features(RegistryState[] registry, OnlineStore store) {
        return new OnlineFeatures(() -> registry[0], store, Clock.fixed(NOW, ZoneOffset.UTC), (view, keys) -> { });
    }

    private static List<GetOnlineFeaturesRequest> requests() {
        return List.of(
                request(List.of("user_stats:clicks", "user_stats:dwell"), "user_id", int64(1), int64(2), int64(3), int64(4), int64(5)),
                request(List.of("item_stats:ctr", "item_stats:tags"), "item_id", string("a"), string("b"), string("zz")));
    }

    @Test
    void answersEqualTheRocksDbStoresForEveryFieldStatusAndAfterTheViewChanged() {
        RegistryState[] registry = {sampleData()};
        try (OnlineStore rocksWriter = RocksDbOnlineStore.openWriter(dir.resolve("online")); OnlineStore redisWriter = settings.openWriter()) {
            new Materializer(fixture.datasets, registry[0], rocksWriter).materialize(List.of(), Instant.EPOCH, NOW);
            new Materializer(fixture.datasets, registry[0], redisWriter).materialize(List.of(), Instant.EPOCH, NOW);
        }
        try (OnlineStore rocks = RocksDbOnlineStore.openReader(dir.resolve("online")); OnlineStore redisStore = settings.openReader()) {
            OnlineFeatures fromRocks = features(registry, rocks);
            OnlineFeatures fromRedis = features(registry, redisStore);
            GetOnlineFeaturesResponse users = fromRedis.get(requests().get(0));
            assertThat(statuses(users, "clicks")).containsExactly(FieldStatus.PRESENT, FieldStatus.PRESENT, FieldStatus.OUTSIDE_MAX_AGE,
                    FieldStatus.NOT_FOUND, FieldStatus.PRESENT);
            assertThat(statuses(users, "dwell")).containsExactly(FieldStatus.PRESENT, FieldStatus.NULL_VALUE, FieldStatus.OUTSIDE_MAX_AGE,
                    FieldStatus.NOT_FOUND, FieldStatus.PRESENT);
            assertThat(column(users, "clicks").getValues(0).getInt64Val()).as("the later created row").isEqualTo(8);
            assertThat(column(users, "clicks").getValues(4).getInt64Val()).as("the row written later").isEqualTo(2);
            for (GetOnlineFeaturesRequest request : requests()) {
                assertThat(fromRedis.get(request)).isEqualTo(fromRocks.get(request));
            }

            // the view's features reordered: rows written before are still read by name, in both stores
            String[] reordered = DEFINITIONS.clone();
            reordered[9] = "      - {name: dwell, dtype: DOUBLE}";
            reordered[10] = "      - {name: clicks, dtype: INT64}";
            registry[0] = fixture.apply(reordered);
            GetOnlineFeaturesResponse after = fromRedis.get(requests().get(0));
            assertThat(column(after, "clicks").getValues(0).getInt64Val()).isEqualTo(8);
            assertThat(column(after, "dwell").getValues(0).getDoubleVal()).isEqualTo(1.75);
            assertThat(after).isEqualTo(fromRocks.get(requests().get(0)));
        }
    }

    @Test
    void theScriptDecidesWhichRowIsNewerExactlyAsOnlineRowDoes() {
        long[] times = {Long.MIN_VALUE, -1_000_000L, -1, 0, 1, 255, 256, 1L << 40, Long.MAX_VALUE};
        Random random = new Random(7);
        Value value = Value.newBuilder().setStringVal("v").build();
        try (RedisOnlineStore store = RedisOnlineStore.openWriter(settings); Jedis jedis = redis.connect(0)) {
            for (int i = 0; i < 400; i++) {
                byte[] key = EntityKeys.encode(List.of((long) i));
                OnlineRow stored = new OnlineRow(1, pick(times, random), pick(times, random), pick(times, random), pick(times, random),
                        List.of(value));
                OnlineRow incoming = random.nextInt(8) == 0 ? stored
                        : new OnlineRow(1, random.nextBoolean() ? stored.eventTimeMicros() : pick(times, random),
                        random.nextBoolean() ? stored.createdTimeMicros() : pick(times, random),
                        random.nextBoolean() ? stored.sequenceNumber() : pick(times, random), pick(times, random), List.of(value));
                boolean storedInFirstFormat = i % 5 == 0;
                if (storedInFirstFormat) {
                    jedis.set(store.rowKey("v", key), firstFormat(stored));
                } else {
                    store.writeNewer("v", List.of(key), List.of(stored), Optional.empty());
                }
                boolean expected = storedInFirstFormat ? incoming.isNewerThan(new EncodedRow(firstFormat(stored))) : incoming.isNewerThan(stored);
                int written = store.writeNewer("v", List.of(key), List.of(incoming), Optional.empty());
                assertThat(written).as("stored %s (format %d), incoming %s", stored, storedInFirstFormat ? 1 : 2, incoming)
                        .isEqualTo(expected ? 1 : 0);
            }
            jedis.set(store.rowKey("v", EntityKeys.encode(List.of(-1L))), "not a row".getBytes(StandardCharsets.UTF_8));
            assertThatThrownBy(() -> store.writeNewer("v", List.of(EntityKeys.encode(List.of(-1L))),
                    List.of(new OnlineRow(1, 1, 1, List.of(value))), Optional.empty()))
                    .isInstanceOf(GranaryException.class).hasMessageContaining("holds a value that is not a Granary row");
        }
    }

    private static long pick(long[] values, Random random) {
        return values[random.nextInt(values.length)];
    }

    private static byte[] firstFormat(OnlineRow row) {
        Value value = row.values().get(0);
        byte[] bytes = new byte[1 + 4 + 8 + 8 + 1 + value.getSerializedSize()];
        java.nio.ByteBuffer out = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.put((byte) 1).putInt(row.layout()).putLong(row.eventTimeMicros()).putLong(row.createdTimeMicros())
                .put((byte) value.getSerializedSize()).put(value.toByteArray());
        return bytes;
    }

    @Test
    void anInterruptedMaterializationResumesAfterItsLastFinishedSnapshot() throws Exception {
        RegistryState registry = sampleData();
        Instant end = Instant.parse("2026-12-02T00:00:00Z");
        try (OnlineStore writer = settings.openWriter()) {
            new Materializer(fixture.datasets, registry, writer).materializeIncremental(List.of("user_stats"), end);
        }
        fixture.userStats("7,2026-11-27T00:00:00Z,2026-11-27T01:00:00Z,70,1.0");
        WriteResult third = fixture.userStats("8,2026-11-27T00:00:00Z,2026-11-27T01:00:00Z,80,1.0",
                "9,2026-11-27T00:00:00Z,2026-11-27T01:00:00Z,90,1.0");
        Table table = fixture.datasets.load(FeatureStoreFixture.USER_STATS);
        DataFile lastFile = table.snapshot(third.snapshotId()).addedDataFiles(table.io()).iterator().next();
        Path file = Path.of(lastFile.location().replaceFirst("^file:", ""));
        Path saved = dir.resolve("saved.parquet");
        Files.copy(file, saved);
        Files.write(file, new byte[] {1, 2, 3});

        try (OnlineStore writer = settings.openWriter()) {
            assertThatThrownBy(() -> new Materializer(fixture.datasets, registry, writer).materializeIncremental(List.of("user_stats"), end))
                    .isInstanceOf(RuntimeException.class);
        }
        try (OnlineStore reader = settings.openReader()) {
            assertThat(clicks(reader, 7)).as("the finished snapshot is in Redis").contains(70L);
            assertThat(clicks(reader, 8)).isEmpty();
        }

        Files.copy(saved, file, StandardCopyOption.REPLACE_EXISTING);
        try (OnlineStore writer = settings.openWriter()) {
            MaterializeResult resumed = new Materializer(fixture.datasets, registry, writer).materializeIncremental(List.of("user_stats"), end).get(0);
            assertThat(resumed.snapshots()).as("only the snapshot that failed is read again").isEqualTo(1);
            assertThat(resumed.rowsRead()).isEqualTo(2);
            assertThat(clicks(writer, 8)).contains(80L);
            assertThat(clicks(writer, 9)).contains(90L);
        }
    }

    private static Optional<Long> clicks(OnlineStore store, long user) {
        return store.read("user_stats", List.of(EntityKeys.encode(List.of(user)))).get(0).map(row -> row.values().get(0).getInt64Val());
    }

    @Test
    void aSecondWriterIsRefusedWhileTheFirstHoldsTheLease() {
        try (OnlineStore first = settings.openWriter()) {
            assertThatThrownBy(settings::openWriter).isInstanceOf(GranaryException.class)
                    .hasMessageContaining("is being written by another process").hasMessageContaining(settings.describe());
            try (OnlineStore reader = settings.openReader()) {
                assertThat(reader.state("nothing")).as("readers need no lease").isEmpty();
            }
        }
        try (OnlineStore second = settings.openWriter()) {
            assertThat(second.state("nothing")).as("the lease is given back on close").isEmpty();
        }
    }

    @Test
    void rowsExpireWithTheirViewsTtlWhenAskedAndEveryKeyIsListed() {
        RegistryState registry = sampleData();
        RedisSettings expiring = settings.withOptions(false, settings.keyPrefix(), true, settings.timeout());
        Instant now = Instant.now();
        fixture.userStats(
                "10," + now.minus(Duration.ofHours(1)) + "," + now + ",1,1.0",
                "11," + now.minus(Duration.ofDays(3)) + "," + now + ",1,1.0");    // already older than the 2-day ttl
        try (OnlineStore writer = expiring.openWriter()) {
            new Materializer(fixture.datasets, registry, writer).materialize(List.of(), Instant.EPOCH, now.plusSeconds(60));
        }
        try (RedisOnlineStore reader = RedisOnlineStore.openReader(expiring); Jedis jedis = redis.connect(0)) {
            long ttl = jedis.pttl(reader.rowKey("user_stats", EntityKeys.encode(List.of(10L))));
            assertThat(ttl).as("an hour-old row of a 2-day view lives about 47 hours more")
                    .isBetween(Duration.ofHours(47).minusMinutes(1).toMillis(), Duration.ofHours(47).toMillis());
            assertThat(clicks(reader, 11)).as("a row already past its ttl is not kept").isEmpty();
            assertThat(jedis.pttl(reader.rowKey("item_stats", EntityKeys.encode(List.of("a"))))).as("ttl 0: never expires").isEqualTo(-1);

            Set<List<Object>> users = new HashSet<>();
            reader.forEachKey("user_stats", key -> users.add(EntityKeys.decode(key)));
            assertThat(users).as("the sample's rows are all older than two days now").containsExactly(List.of(10L));
        }
    }

    @Test
    void anUnreachableRedisIsNamedWithTheWayOut() {
        RedisSettings nowhere = RedisSettings.fromUrl("redis://127.0.0.1:1").withOptions(false, "x", false, Duration.ofMillis(500));
        assertThatThrownBy(nowhere::openWriter).isInstanceOf(GranaryException.class)
                .hasMessageContaining("redis://127.0.0.1:1").hasMessageContaining("cannot lock")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("check that Redis is up"));
        try (OnlineStore reader = nowhere.openReader()) {
            assertThatThrownBy(() -> reader.read("user_stats", List.of(EntityKeys.encode(List.of(1L)))))
                    .isInstanceOf(GranaryException.class).hasMessageContaining("cannot read the online store redis://127.0.0.1:1");
        }
    }

    @Test
    void urlsAndNodesAreReadAsRedisToolsReadThem() {
        RedisSettings full = RedisSettings.fromUrl("rediss://ml:s%40cret@cache.internal:6380/2");
        assertThat(full.nodes()).containsExactly("cache.internal:6380");
        assertThat(full.user()).contains("ml");
        assertThat(full.password()).contains("s@cret");
        assertThat(full.tls()).isTrue();
        assertThat(full.database()).isEqualTo(2);
        assertThat(full.toString()).doesNotContain("s@cret");
        assertThat(RedisSettings.fromUrl("redis://:pw@h").password()).contains("pw");
        assertThat(RedisSettings.fromUrl("redis://:pw@h").user()).isEmpty();
        assertThat(RedisSettings.fromUrl("redis://h").nodes()).containsExactly("h:6379");
        assertThatThrownBy(() -> RedisSettings.fromUrl("http://h:1")).hasMessageContaining("not a redis:// or rediss:// URL");
        assertThatThrownBy(() -> RedisSettings.fromUrl("redis://h/x")).hasMessageContaining("names database 'x'");
        assertThatThrownBy(() -> RedisSettings.cluster(List.of("h:1", "nope"))).hasMessageContaining("'nope' is not HOST:PORT");
        assertThatThrownBy(() -> RedisSettings.cluster(new ArrayList<>())).hasMessageContaining("names no server");
    }
}
