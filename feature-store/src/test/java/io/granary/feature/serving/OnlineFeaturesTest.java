package io.granary.feature.serving;

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
import feast.proto.types.ValueProto.RepeatedValue;
import io.granary.common.GranaryException;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.registry.RegistryState;
import io.granary.feature.testing.FeatureStoreFixture;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnlineFeaturesTest {

    @TempDir
    Path dir;

    FeatureStoreFixture fixture;
    RocksDbOnlineStore store;
    AtomicReference<RegistryState> registry = new AtomicReference<>();
    OnlineFeatures features;

    static final Instant NOW = Instant.parse("2026-12-01T00:00:00Z");

    @BeforeEach
    void setUp() {
        fixture = new FeatureStoreFixture(dir);
        fixture.userStats(
                "1,2026-11-30T00:00:00Z,2026-11-30T01:00:00Z,7,1.5",
                "2,2026-11-30T06:00:00Z,2026-11-30T07:00:00Z,4,",
                "3,2026-11-28T00:00:00Z,2026-11-28T01:00:00Z,9,2.5");
        fixture.itemStats("{\"item_id\": \"a\", \"event_ts\": \"2026-01-01T00:00:00Z\", \"ctr\": 0.1, \"tags\": [\"x\", \"y\"]}");
        registry.set(fixture.apply(DEFINITIONS));
        try (RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(fixture.onlinePath)) {
            new Materializer(fixture.datasets, registry.get(), writer).materialize(List.of(), Instant.EPOCH, NOW);
        }
        store = RocksDbOnlineStore.openReader(fixture.onlinePath);
        features = new OnlineFeatures(registry::get, store, Clock.fixed(NOW, ZoneOffset.UTC), (view, keys) -> { });
    }

    @AfterEach
    void tearDown() throws Exception {
        store.close();
        fixture.close();
    }

    @Test
    void everyFieldStatus() {
        GetOnlineFeaturesResponse response = features.get(request(List.of("user_stats:clicks", "user_stats:dwell"), "user_id",
                int64(1), int64(2), int64(3), int64(4)));

        assertThat(response.getMetadata().getFeatureNames().getValList()).containsExactly("user_id", "clicks", "dwell");
        assertThat(column(response, "user_id").getValuesList()).containsExactly(int64(1), int64(2), int64(3), int64(4));
        assertThat(statuses(response, "user_id")).containsOnly(FieldStatus.PRESENT);
        assertThat(statuses(response, "clicks")).containsExactly(
                FieldStatus.PRESENT, FieldStatus.PRESENT, FieldStatus.OUTSIDE_MAX_AGE, FieldStatus.NOT_FOUND);
        assertThat(statuses(response, "dwell")).containsExactly(
                FieldStatus.PRESENT, FieldStatus.NULL_VALUE, FieldStatus.OUTSIDE_MAX_AGE, FieldStatus.NOT_FOUND);
        assertThat(column(response, "clicks").getValues(0).getInt64Val()).isEqualTo(7);
        assertThat(column(response, "dwell").getValues(0).getDoubleVal()).isEqualTo(1.5);
        assertThat(column(response, "clicks").getEventTimestamps(1).getSeconds()).isEqualTo(Instant.parse("2026-11-30T06:00:00Z").getEpochSecond());
        for (GetOnlineFeaturesResponse.FeatureVector vector : response.getResultsList()) {
            assertThat(vector.getValuesCount()).isEqualTo(4);
            assertThat(vector.getStatusesCount()).isEqualTo(4);
            assertThat(vector.getEventTimestampsCount()).as("stock clients index all three by row").isEqualTo(4);
        }
    }

    @Test
    void theEncodedAnswerIsByteForByteWhatProtobufWrites() throws Exception {
        GetOnlineFeaturesRequest mixed = request(List.of("user_stats:clicks", "user_stats:dwell"), "user_id",
                int64(1), int64(2), int64(3), int64(4));
        GetOnlineFeaturesRequest service = GetOnlineFeaturesRequest.newBuilder()
                .setFeatureService("ranking")
                .putEntities("user_id", RepeatedValue.newBuilder().addVal(int64(3)).addVal(int64(1)).build())
                .putEntities("item_id", RepeatedValue.newBuilder().addVal(string("a")).addVal(string("zz")).build())
                .build();
        GetOnlineFeaturesRequest noRows = request(List.of("user_stats:clicks"), "user_id");
        for (GetOnlineFeaturesRequest request : List.of(mixed, service, noRows)) {
            byte[] encoded = features.encode(request);
            GetOnlineFeaturesResponse parsed = GetOnlineFeaturesResponse.parseFrom(encoded);
            assertThat(parsed.toByteArray()).as("the same bytes protobuf writes for the parsed message").isEqualTo(encoded);
            assertThat(parsed.getResultsCount()).isEqualTo(parsed.getMetadata().getFeatureNames().getValCount());
        }
        GetOnlineFeaturesResponse response = features.get(mixed);
        assertThat(column(response, "clicks").getEventTimestamps(2).getSeconds())
                .as("a stale row still tells its event time").isEqualTo(Instant.parse("2026-11-28T00:00:00Z").getEpochSecond());
        assertThat(column(response, "clicks").getEventTimestamps(3)).as("no row, no time").isEqualTo(com.google.protobuf.Timestamp.getDefaultInstance());
    }

    @Test
    void aZeroTtlNeverExpiresAndListsArrive() {
        GetOnlineFeaturesResponse response = features.get(request(List.of("item_stats:ctr", "item_stats:tags"), "item_id", string("a")));
        assertThat(statuses(response, "ctr")).containsExactly(FieldStatus.PRESENT);
        assertThat(column(response, "tags").getValues(0).getStringListVal().getValList()).containsExactly("x", "y");
    }

    @Test
    void featureServicesAndFullFeatureNames() {
        GetOnlineFeaturesRequest request = GetOnlineFeaturesRequest.newBuilder()
                .setFeatureService("ranking")
                .setFullFeatureNames(true)
                .putEntities("user_id", RepeatedValue.newBuilder().addVal(int64(1)).build())
                .putEntities("item_id", RepeatedValue.newBuilder().addVal(string("a")).build())
                .build();

        GetOnlineFeaturesResponse response = features.get(request);

        assertThat(response.getMetadata().getFeatureNames().getValList())
                .containsExactly("user_id", "item_id", "user_stats__clicks", "item_stats__ctr", "item_stats__tags");
        assertThat(column(response, "item_stats__ctr").getValues(0).getDoubleVal()).isEqualTo(0.1);
    }

    @Test
    void badRequestsNameTheCulprit() {
        assertThatThrownBy(() -> features.get(request(List.of("user_stats:clickz"), "user_id", int64(1))))
                .isInstanceOf(GranaryException.class).hasMessage("unknown feature 'user_stats:clickz'");
        assertThatThrownBy(() -> features.get(request(List.of("users:clicks"), "user_id", int64(1))))
                .hasMessage("unknown feature view 'users'");
        assertThatThrownBy(() -> features.get(GetOnlineFeaturesRequest.newBuilder().setFeatureService("nope")
                .putEntities("user_id", RepeatedValue.newBuilder().addVal(int64(1)).build()).build()))
                .hasMessage("unknown feature service 'nope'");
        assertThatThrownBy(() -> features.get(request(List.of("user_stats:clicks"), "usr_id", int64(1))))
                .hasMessageContaining("missing entity column 'user_id'");
        assertThatThrownBy(() -> features.get(request(List.of("user_stats:clicks"), "user_id", string("one"))))
                .hasMessageContaining("entity key user_id is INT64, but a value in the request is string_val");

        GetOnlineFeaturesRequest unequal = GetOnlineFeaturesRequest.newBuilder()
                .setFeatureService("ranking")
                .putEntities("user_id", RepeatedValue.newBuilder().addVal(int64(1)).addVal(int64(2)).build())
                .putEntities("item_id", RepeatedValue.newBuilder().addVal(string("a")).build())
                .build();
        assertThatThrownBy(() -> features.get(unequal)).hasMessageContaining("entity columns differ in length: item_id has 1 values, user_id has 2");

        GetOnlineFeaturesRequest extra = request(List.of("user_stats:clicks"), "user_id", int64(1)).toBuilder()
                .putEntities("item_id", RepeatedValue.newBuilder().addVal(string("a")).build()).build();
        assertThatThrownBy(() -> features.get(extra)).hasMessageContaining("unknown entity key 'item_id'");
    }

    @Test
    void rowsWrittenBeforeAViewChangedAreReadByName() {
        String[] reordered = DEFINITIONS.clone();
        reordered[9] = "      - {name: dwell, dtype: DOUBLE}";
        reordered[10] = "      - {name: clicks, dtype: INT64}";
        registry.set(fixture.apply(reordered));

        GetOnlineFeaturesResponse response = features.get(request(List.of("user_stats:clicks", "user_stats:dwell"), "user_id", int64(1)));

        assertThat(column(response, "clicks").getValues(0).getInt64Val()).isEqualTo(7);
        assertThat(column(response, "dwell").getValues(0).getDoubleVal()).isEqualTo(1.5);
    }
}
