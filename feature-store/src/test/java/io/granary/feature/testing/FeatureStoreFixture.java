package io.granary.feature.testing;

import static io.granary.dataset.testing.TestFiles.write;

import feast.proto.serving.ServingAPIProto.FeatureList;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.WriteResult;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A catalog, a registry and an online store in a temp dir, with small user and item datasets. */
public final class FeatureStoreFixture implements AutoCloseable {

    public static final String[] DEFINITIONS = {
        "entities:",
        "  - {name: user, join_key: user_id, value_type: INT64}",
        "  - {name: item, join_key: item_id, value_type: STRING}",
        "feature_views:",
        "  - name: user_stats",
        "    entities: [user]",
        "    ttl: 2d",
        "    source: {dataset: demo.user_stats, timestamp_field: event_ts, created_timestamp_field: created_ts}",
        "    features:",
        "      - {name: clicks, dtype: INT64}",
        "      - {name: dwell, dtype: DOUBLE}",
        "  - name: item_stats",
        "    entities: [item]",
        "    ttl: 0",
        "    source: {dataset: demo.item_stats, timestamp_field: event_ts}",
        "    features:",
        "      - {name: ctr, dtype: DOUBLE}",
        "      - {name: tags, dtype: STRING_LIST}",
        "feature_services:",
        "  - {name: ranking, features: [user_stats:clicks, item_stats]}",
    };

    public final Path dir;
    public final Datasets datasets;
    public final Registry registry;
    public final Path onlinePath;

    public FeatureStoreFixture(Path dir) {
        this.dir = dir;
        this.datasets = Datasets.open(CatalogSettings.localHadoop(dir.resolve("warehouse")));
        this.registry = new Registry(dir.resolve("registry"));
        this.onlinePath = dir.resolve("online");
    }

    public static final DatasetName USER_STATS = DatasetName.parse("demo.user_stats");
    public static final DatasetName ITEM_STATS = DatasetName.parse("demo.item_stats");

    public WriteResult userStats(String... rows) {
        List<String> lines = new ArrayList<>(List.of("user_id,event_ts,created_ts,clicks,dwell"));
        lines.addAll(List.of(rows));
        Path file = write(dir, "user-" + System.nanoTime() + ".csv", lines.toArray(String[]::new));
        if (!datasets.exists(USER_STATS)) {
            return datasets.create(USER_STATS, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), Provenance.of("test", List.of()));
        }
        return datasets.append(DatasetRef.latest(USER_STATS), List.of(file), WriteOptions.defaults(), Provenance.of("test", List.of()));
    }

    public WriteResult itemStats(String... jsonRows) {
        Path file = write(dir, "item-" + System.nanoTime() + ".jsonl", jsonRows);
        if (!datasets.exists(ITEM_STATS)) {
            return datasets.create(ITEM_STATS, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), Provenance.of("test", List.of()));
        }
        return datasets.append(DatasetRef.latest(ITEM_STATS), List.of(file), WriteOptions.defaults(), Provenance.of("test", List.of()));
    }

    public RegistryState apply(String... lines) {
        Definitions definitions = Definitions.parse(write(dir, "features-" + System.nanoTime() + ".yaml", lines));
        DefinitionChecker.check(definitions, registry.load(), datasets);
        return registry.apply(definitions);
    }

    public static GetOnlineFeaturesRequest request(List<String> features, String joinKey, Value... values) {
        return GetOnlineFeaturesRequest.newBuilder()
                .setFeatures(FeatureList.newBuilder().addAllVal(features))
                .putEntities(joinKey, RepeatedValue.newBuilder().addAllVal(List.of(values)).build())
                .build();
    }

    public static Value int64(long value) {
        return Value.newBuilder().setInt64Val(value).build();
    }

    public static Value string(String value) {
        return Value.newBuilder().setStringVal(value).build();
    }

    /** The column of a response named {@code name}. */
    public static GetOnlineFeaturesResponse.FeatureVector column(GetOnlineFeaturesResponse response, String name) {
        int index = response.getMetadata().getFeatureNames().getValList().indexOf(name);
        if (index < 0) {
            throw new AssertionError("no column " + name + " in " + response.getMetadata().getFeatureNames().getValList());
        }
        return response.getResults(index);
    }

    public static List<FieldStatus> statuses(GetOnlineFeaturesResponse response, String name) {
        return column(response, name).getStatusesList();
    }

    @Override
    public void close() throws Exception {
        datasets.close();
    }
}
