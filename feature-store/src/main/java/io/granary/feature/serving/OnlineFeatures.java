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

    /** How to answer requests of one shape (same features or service, same naming), worked out once per registry generation. */
    private record Plan(long generation, List<String> joinKeys, Map<String, Entity> entityOfKey, List<ViewPlan> views,
                        List<String> featureNames) {}

    private record ViewPlan(FeatureView view, List<String> joinKeys, List<String> features) {}

    private record PlanKey(GetOnlineFeaturesRequest.KindCase kind, String service, List<String> features, boolean fullNames) {}

    private final Map<PlanKey, Plan> plans = new java.util.concurrent.ConcurrentHashMap<>();

    private Plan plan(GetOnlineFeaturesRequest request, RegistryState state) {
        PlanKey key = new PlanKey(request.getKindCase(), request.getFeatureService(), request.getFeatures().getValList(),
                request.getFullFeatureNames());
        Plan plan = plans.get(key);
        if (plan != null && plan.generation() == state.generation()) {
            return plan;
        }
        if (plans.size() > 10_000) {
            plans.clear(); // many distinct feature lists: keep the cache bounded
        }
        plan = newPlan(key, state);
        plans.put(key, plan);
        return plan;
    }

    private static Plan newPlan(PlanKey key, RegistryState state) {
        List<FeatureRef> refs = switch (key.kind()) {
            case FEATURE_SERVICE -> state.resolveService(key.service());
            case FEATURES -> state.resolve(key.features());
            default -> throw new GranaryException("the request names no features", "set features (VIEW:FEATURE, ...) or feature_service");
        };
        Map<String, List<FeatureRef>> byView = new LinkedHashMap<>();
        refs.forEach(ref -> byView.computeIfAbsent(ref.view(), v -> new ArrayList<>()).add(ref));
        LinkedHashSet<String> joinKeys = new LinkedHashSet<>();
        Map<String, Entity> entityOfKey = new HashMap<>();
        List<ViewPlan> views = new ArrayList<>();
        Set<String> outputNames = new HashSet<>();
        List<String> featureNames = new ArrayList<>();
        for (Map.Entry<String, List<FeatureRef>> group : byView.entrySet()) {
            FeatureView view = state.featureView(group.getKey());
            for (String entityName : view.entities()) {
                Entity entity = state.entity(entityName);
                joinKeys.add(entity.joinKey());
                entityOfKey.put(entity.joinKey(), entity);
            }
            List<String> features = new ArrayList<>();
            for (FeatureRef ref : group.getValue()) {
                String name = ref.outputName(key.fullNames());
                if (!outputNames.add(name)) {
                    throw new GranaryException("two requested features are both named '" + name + "'",
                            "set full_feature_names to tell them apart as VIEW__FEATURE");
                }
                featureNames.add(name);
                features.add(ref.feature());
            }
            views.add(new ViewPlan(view, state.joinKeys(view), features));
        }
        for (String joinKey : joinKeys) {
            if (outputNames.contains(joinKey)) {
                throw new GranaryException("a feature is named like the entity key '" + joinKey + "'", "set full_feature_names");
            }
        }
        return new Plan(state.generation(), List.copyOf(joinKeys), Map.copyOf(entityOfKey), List.copyOf(views), List.copyOf(featureNames));
    }

    public GetOnlineFeaturesResponse get(GetOnlineFeaturesRequest request) {
        Plan plan = plan(request, registry.get());
        Map<String, RepeatedValue> entities = request.getEntitiesMap();
        int rows = rowCount(entities);
        for (ViewPlan view : plan.views()) {
            for (String joinKey : view.joinKeys()) {
                if (!entities.containsKey(joinKey)) {
                    throw new GranaryException("missing entity column '" + joinKey + "', needed by feature view " + view.view().name(),
                            "send entities: {\"" + joinKey + "\": [...]}");
                }
            }
        }
        for (String given : entities.keySet()) {
            if (!plan.entityOfKey().containsKey(given)) {
                throw GranaryException.notFound("unknown entity key '" + given + "' for these features",
                        "the requested features are keyed by: " + String.join(", ", plan.joinKeys()));
            }
        }

        Map<String, Object[]> keyValues = new HashMap<>();
        for (String joinKey : plan.joinKeys()) {
            List<Value> column = entities.get(joinKey).getValList();
            Object[] normal = new Object[rows];
            for (int r = 0; r < rows; r++) {
                normal[r] = EntityKeys.fromRequest(joinKey, column.get(r), plan.entityOfKey().get(joinKey).valueType());
            }
            keyValues.put(joinKey, normal);
        }

        GetOnlineFeaturesResponse.Builder response = GetOnlineFeaturesResponse.newBuilder().setStatus(true);
        FeatureList.Builder names = FeatureList.newBuilder().addAllVal(plan.joinKeys()).addAllVal(plan.featureNames());
        for (String joinKey : plan.joinKeys()) {
            GetOnlineFeaturesResponse.FeatureVector.Builder vector = response.addResultsBuilder();
            vector.addAllValues(entities.get(joinKey).getValList());
            for (int r = 0; r < rows; r++) {
                vector.addStatuses(FieldStatus.PRESENT).addEventTimestamps(NO_TIME);
            }
        }
        long nowMicros = clock.millis() * 1000;
        Map<String, List<byte[]>> keysByView = new LinkedHashMap<>();
        for (ViewPlan plannedView : plan.views()) {
            List<byte[]> keys = new ArrayList<>(rows);
            for (int r = 0; r < rows; r++) {
                if (plannedView.joinKeys().size() == 1) {
                    keys.add(EntityKeys.encode(List.of(keyValues.get(plannedView.joinKeys().get(0))[r])));
                    continue;
                }
                List<Object> values = new ArrayList<>(plannedView.joinKeys().size());
                for (String joinKey : plannedView.joinKeys()) {
                    values.add(keyValues.get(joinKey)[r]);
                }
                keys.add(EntityKeys.encode(values));
            }
            keysByView.put(plannedView.view().name(), keys);
        }
        Map<String, List<Optional<OnlineRow>>> foundByView = store.read(keysByView);
        for (ViewPlan plannedView : plan.views()) {
            FeatureView view = plannedView.view();
            List<Optional<OnlineRow>> found = foundByView.get(view.name());
            lookups.looked(view.name(), rows);
            // per row, once: its feature positions (by its layout), event timestamp and freshness
            List<Map<String, Integer>> positions = new ArrayList<>(rows);
            List<Timestamp> eventTimes = new ArrayList<>(rows);
            boolean[] stale = new boolean[rows];
            for (int r = 0; r < rows; r++) {
                Optional<OnlineRow> stored = found.get(r);
                if (stored.isEmpty()) {
                    positions.add(Map.of());
                    eventTimes.add(NO_TIME);
                    continue;
                }
                OnlineRow row = stored.get();
                positions.add(layouts.positions(view.name(), row.layout()));
                eventTimes.add(Timestamp.newBuilder().setSeconds(Math.floorDiv(row.eventTimeMicros(), 1_000_000))
                        .setNanos((int) Math.floorMod(row.eventTimeMicros(), 1_000_000) * 1000).build());
                stale[r] = view.ttlSeconds() > 0 && nowMicros - row.eventTimeMicros() > view.ttlSeconds() * 1_000_000;
            }
            for (String feature : plannedView.features()) {
                GetOnlineFeaturesResponse.FeatureVector.Builder vector = response.addResultsBuilder();
                for (int r = 0; r < rows; r++) {
                    addCell(vector, found.get(r), positions.get(r).get(feature), eventTimes.get(r), stale[r]);
                }
            }
        }
        response.setMetadata(GetOnlineFeaturesResponseMetadata.newBuilder().setFeatureNames(names));
        return response.build();
    }

    private static void addCell(GetOnlineFeaturesResponse.FeatureVector.Builder vector, Optional<OnlineRow> stored, Integer position,
                                Timestamp eventTime, boolean stale) {
        if (stored.isEmpty()) {
            vector.addValues(NULL).addStatuses(FieldStatus.NOT_FOUND).addEventTimestamps(NO_TIME);
        } else if (position == null || position >= stored.get().values().size()) {
            // materialized before this feature was added to the view
            vector.addValues(NULL).addStatuses(FieldStatus.NOT_FOUND).addEventTimestamps(eventTime);
        } else if (stale) {
            vector.addValues(NULL).addStatuses(FieldStatus.OUTSIDE_MAX_AGE).addEventTimestamps(eventTime);
        } else {
            Value value = stored.get().values().get(position);
            vector.addValues(value)
                    .addStatuses(value.getValCase() == Value.ValCase.VAL_NOT_SET ? FieldStatus.NULL_VALUE : FieldStatus.PRESENT)
                    .addEventTimestamps(eventTime);
        }
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
