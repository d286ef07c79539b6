package io.granary.feature.serving;

import com.google.protobuf.InvalidProtocolBufferException;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.feature.online.EncodedRow;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.Layouts;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Answers a Feast GetOnlineFeatures request from the online store: one column of values, statuses
 * and event timestamps per requested name, entity key columns first. What is wrong with a request
 * (an unknown feature, an entity column of the wrong length or type) fails with a GranaryException
 * naming it; a missing or stale row is a status, not an error.
 */
public final class OnlineFeatures {

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
                        byte[] metadata) {}

    /** A view's part of a plan; positionsByLayout fills as rows of each layout are met. */
    private record ViewPlan(FeatureView view, List<String> joinKeys, List<String> features, Map<Integer, int[]> positionsByLayout) {}

    private record PlanKey(GetOnlineFeaturesRequest.KindCase kind, String service, List<String> features, boolean fullNames) {}

    private final Map<PlanKey, Plan> plans = new ConcurrentHashMap<>();

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
            views.add(new ViewPlan(view, state.joinKeys(view), features, new ConcurrentHashMap<>()));
        }
        for (String joinKey : joinKeys) {
            if (outputNames.contains(joinKey)) {
                throw new GranaryException("a feature is named like the entity key '" + joinKey + "'", "set full_feature_names");
            }
        }
        List<String> names = new ArrayList<>(joinKeys);
        names.addAll(featureNames);
        return new Plan(state.generation(), List.copyOf(joinKeys), Map.copyOf(entityOfKey), List.copyOf(views), ResponseEncoder.metadata(names));
    }

    /** The answer as a message (HTTP, the CLI): the encoded answer, parsed. */
    public GetOnlineFeaturesResponse get(GetOnlineFeaturesRequest request) {
        try {
            return GetOnlineFeaturesResponse.parseFrom(encode(request));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("an encoded response does not parse", e);
        }
    }

    /** The answer as the bytes of a GetOnlineFeaturesResponse, written without building the message (gRPC). */
    public byte[] encode(GetOnlineFeaturesRequest request) {
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
        Map<String, List<byte[]>> keysByView = new LinkedHashMap<>();
        for (ViewPlan plannedView : plan.views()) {
            List<byte[]> keys = new ArrayList<>(rows);
            for (int r = 0; r < rows; r++) {
                List<Object> values = new ArrayList<>(plannedView.joinKeys().size());
                for (String joinKey : plannedView.joinKeys()) {
                    values.add(keyValues.get(joinKey)[r]);
                }
                keys.add(EntityKeys.encode(values));
            }
            keysByView.put(plannedView.view().name(), keys);
        }
        Map<String, List<Optional<EncodedRow>>> foundByView = store.read(keysByView);

        ResponseEncoder response = new ResponseEncoder(plan.metadata());
        for (String joinKey : plan.joinKeys()) {
            response.entityColumn(entities.get(joinKey).getValList());
        }
        long nowMicros = clock.millis() * 1000;
        for (ViewPlan plannedView : plan.views()) {
            FeatureView view = plannedView.view();
            List<Optional<EncodedRow>> found = foundByView.get(view.name());
            lookups.looked(view.name(), rows);
            // per row, once: the row, where each requested feature is in it (by its layout), its event time and freshness
            EncodedRow[] stored = new EncodedRow[rows];
            int[][] featurePositions = new int[rows][];
            byte[][] eventTimes = new byte[rows][];
            boolean[] stale = new boolean[rows];
            for (int r = 0; r < rows; r++) {
                EncodedRow row = found.get(r).orElse(null);
                stored[r] = row;
                if (row == null) {
                    eventTimes[r] = ResponseEncoder.EMPTY;
                    continue;
                }
                featurePositions[r] = positions(plannedView, row);
                eventTimes[r] = ResponseEncoder.timestamp(row.eventTimeMicros());
                stale[r] = view.ttlSeconds() > 0 && nowMicros - row.eventTimeMicros() > view.ttlSeconds() * 1_000_000;
            }
            for (int f = 0; f < plannedView.features().size(); f++) {
                int[] positions = new int[rows];
                byte[] statuses = new byte[rows];
                for (int r = 0; r < rows; r++) {
                    positions[r] = -1;
                    if (stored[r] == null || featurePositions[r][f] < 0) {
                        // no row, or a row materialized before this feature was added to the view
                        statuses[r] = FieldStatus.NOT_FOUND_VALUE;
                    } else if (stale[r]) {
                        statuses[r] = FieldStatus.OUTSIDE_MAX_AGE_VALUE;
                    } else {
                        positions[r] = featurePositions[r][f];
                        statuses[r] = (byte) (stored[r].isNull(positions[r]) ? FieldStatus.NULL_VALUE_VALUE : FieldStatus.PRESENT_VALUE);
                    }
                }
                response.featureColumn(stored, positions, statuses, eventTimes);
            }
        }
        return response.finish();
    }

    /** For each requested feature of the view, its value's position in rows of this row's layout, or -1 if they lack it. */
    private int[] positions(ViewPlan plannedView, EncodedRow row) {
        return plannedView.positionsByLayout().computeIfAbsent(row.layout(), layout -> {
            Map<String, Integer> byName = layouts.positions(plannedView.view().name(), layout);
            int[] positions = new int[plannedView.features().size()];
            for (int f = 0; f < positions.length; f++) {
                Integer position = byName.get(plannedView.features().get(f));
                positions[f] = position == null ? -1 : position;
            }
            return positions;
        });
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
