package io.granary.feature.serving;

import com.google.protobuf.Timestamp;
import feast.proto.serving.ServingAPIProto.FeatureList;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponseMetadata;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.Layouts;
import io.granary.feature.online.OnlineRow;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.registry.Entity;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Answers a Feast GetOnlineFeatures request from the online store: one column of values, statuses
 * and event timestamps per requested name, entity key columns first. What is wrong with a request
 * (an unknown feature, an entity column of the wrong length or type) fails with a GranaryException
 * naming it; a missing or stale row is a status, not an error.
 */
public final class OnlineFeatures {

    private static final Value NULL = Value.getDefaultInstance();
    private static final Timestamp NO_TIME = Timestamp.getDefaultInstance();

    private final Supplier<RegistryState> registry;
    private final OnlineStore store;
    private final Layouts layouts;
    private final Clock clock;
    private final ViewLookups lookups;

    /** Counts lookups per view, for metrics. */
    public interface ViewLookups {
        void looked(String view, int keys);
    }

    public OnlineFeatures(Supplier<RegistryState> registry, OnlineStore store, Clock clock, ViewLookups lookups) {
        this.registry = registry;
        this.store = store;
        this.layouts = new Layouts(store);
        this.clock = clock;
        this.lookups = lookups;
    }

    public GetOnlineFeaturesResponse get(GetOnlineFeaturesRequest request) {
        RegistryState state = registry.get();
        List<FeatureRef> refs = switch (request.getKindCase()) {
            case FEATURE_SERVICE -> state.resolveService(request.getFeatureService());
            case FEATURES -> state.resolve(request.getFeatures().getValList());
            default -> throw new GranaryException("the request names no features", "set features (VIEW:FEATURE, ...) or feature_service");
        };
        boolean fullNames = request.getFullFeatureNames();
        Map<String, RepeatedValue> entities = request.getEntitiesMap();
        int rows = rowCount(entities);

        Map<String, List<FeatureRef>> byView = new LinkedHashMap<>();
        refs.forEach(ref -> byView.computeIfAbsent(ref.view(), v -> new ArrayList<>()).add(ref));
        LinkedHashSet<String> joinKeys = new LinkedHashSet<>();
        Map<String, Entity> entityOfKey = new HashMap<>();
        for (String viewName : byView.keySet()) {
            FeatureView view = state.featureView(viewName);
            for (String entityName : view.entities()) {
                Entity entity = state.entity(entityName);
                joinKeys.add(entity.joinKey());
                entityOfKey.put(entity.joinKey(), entity);
                if (!entities.containsKey(entity.joinKey())) {
                    throw new GranaryException("missing entity column '" + entity.joinKey() + "', needed by feature view " + viewName,
                            "send entities: {\"" + entity.joinKey() + "\": [...]}");
                }
            }
        }
        for (String given : entities.keySet()) {
            if (!joinKeys.contains(given)) {
                throw GranaryException.notFound("unknown entity key '" + given + "' for these features",
                        "the requested features are keyed by: " + String.join(", ", joinKeys));
            }
        }

        Map<String, Object[]> keyValues = new HashMap<>();
        for (String joinKey : joinKeys) {
            List<Value> column = entities.get(joinKey).getValList();
            Object[] normal = new Object[rows];
            for (int r = 0; r < rows; r++) {
                normal[r] = EntityKeys.fromRequest(joinKey, column.get(r), entityOfKey.get(joinKey).valueType());
            }
            keyValues.put(joinKey, normal);
        }

        GetOnlineFeaturesResponse.Builder response = GetOnlineFeaturesResponse.newBuilder().setStatus(true);
        FeatureList.Builder names = FeatureList.newBuilder();
        for (String joinKey : joinKeys) {
            names.addVal(joinKey);
            GetOnlineFeaturesResponse.FeatureVector.Builder vector = response.addResultsBuilder();
            vector.addAllValues(entities.get(joinKey).getValList());
            for (int r = 0; r < rows; r++) {
                vector.addStatuses(FieldStatus.PRESENT).addEventTimestamps(NO_TIME);
            }
        }
        Set<String> outputNames = new HashSet<>(joinKeys);
        long nowMicros = clock.millis() * 1000;
        for (Map.Entry<String, List<FeatureRef>> group : byView.entrySet()) {
            FeatureView view = state.featureView(group.getKey());
            List<byte[]> keys = new ArrayList<>(rows);
            List<String> viewKeys = state.joinKeys(view);
            for (int r = 0; r < rows; r++) {
                List<Object> values = new ArrayList<>(viewKeys.size());
                for (String joinKey : viewKeys) {
                    values.add(keyValues.get(joinKey)[r]);
                }
                keys.add(EntityKeys.encode(values));
            }
            List<Optional<OnlineRow>> found = store.read(view.name(), keys);
            lookups.looked(view.name(), rows);
            for (FeatureRef ref : group.getValue()) {
                String name = ref.outputName(fullNames);
                if (!outputNames.add(name)) {
                    throw new GranaryException("two requested features are both named '" + name + "'",
                            "set full_feature_names to tell them apart as VIEW__FEATURE");
                }
                names.addVal(name);
                GetOnlineFeaturesResponse.FeatureVector.Builder vector = response.addResultsBuilder();
                for (Optional<OnlineRow> stored : found) {
                    addCell(vector, view, ref.feature(), stored, nowMicros);
                }
            }
        }
        response.setMetadata(GetOnlineFeaturesResponseMetadata.newBuilder().setFeatureNames(names));
        return response.build();
    }

    private void addCell(GetOnlineFeaturesResponse.FeatureVector.Builder vector, FeatureView view, String feature,
                         Optional<OnlineRow> stored, long nowMicros) {
        if (stored.isEmpty()) {
            vector.addValues(NULL).addStatuses(FieldStatus.NOT_FOUND).addEventTimestamps(NO_TIME);
            return;
        }
        OnlineRow row = stored.get();
        Timestamp eventTime = Timestamp.newBuilder().setSeconds(Math.floorDiv(row.eventTimeMicros(), 1_000_000))
                .setNanos((int) Math.floorMod(row.eventTimeMicros(), 1_000_000) * 1000).build();
        Integer position = layouts.positions(view.name(), row.layout()).get(feature);
        if (position == null || position >= row.values().size()) {
            // materialized before this feature was added to the view
            vector.addValues(NULL).addStatuses(FieldStatus.NOT_FOUND).addEventTimestamps(eventTime);
            return;
        }
        if (view.ttlSeconds() > 0 && nowMicros - row.eventTimeMicros() > view.ttlSeconds() * 1_000_000) {
            vector.addValues(NULL).addStatuses(FieldStatus.OUTSIDE_MAX_AGE).addEventTimestamps(eventTime);
            return;
        }
        Value value = row.values().get(position);
        vector.addValues(value)
                .addStatuses(value.getValCase() == Value.ValCase.VAL_NOT_SET ? FieldStatus.NULL_VALUE : FieldStatus.PRESENT)
                .addEventTimestamps(eventTime);
    }

    private static int rowCount(Map<String, RepeatedValue> entities) {
        if (entities.isEmpty()) {
            throw new GranaryException("the request has no entities", "send entities: {\"user_id\": [1, 2, 3]}");
        }
        int rows = -1;
        String first = null;
        for (Map.Entry<String, RepeatedValue> column : new java.util.TreeMap<>(entities).entrySet()) {
            int length = column.getValue().getValCount();
            if (rows < 0) {
                rows = length;
                first = column.getKey();
            } else if (length != rows) {
                throw new GranaryException("entity columns differ in length: " + first + " has " + rows + " values, "
                        + column.getKey() + " has " + length, "send one value per entity row in every entity column");
            }
        }
        return rows;
    }
}
