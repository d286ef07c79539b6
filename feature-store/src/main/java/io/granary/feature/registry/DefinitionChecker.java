package io.granary.feature.registry;

import io.granary.common.GranaryException;
import io.granary.dataset.Datasets;
import io.granary.dataset.ingest.TypeNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Checks definitions against the registry and the catalog before they are applied: every entity a
 * view names exists, its source dataset and columns exist with types its features can be served
 * as, and every feature a service names exists. Each error names file:line and the fix.
 */
public final class DefinitionChecker {

    private DefinitionChecker() {}

    public static void check(Definitions definitions, RegistryState registry, Datasets datasets) {
        Map<String, Entity> entities = new HashMap<>();
        registry.entities().forEach((name, versioned) -> entities.put(name, versioned.value()));
        definitions.entities().forEach(e -> entities.put(e.value().name(), e.value()));
        Map<String, FeatureView> views = new HashMap<>();
        registry.featureViews().forEach((name, versioned) -> views.put(name, versioned.value()));
        definitions.featureViews().forEach(v -> views.put(v.value().name(), v.value()));

        for (Located<FeatureView> located : definitions.featureViews()) {
            checkView(located, entities, datasets);
        }
        for (Located<FeatureService> located : definitions.featureServices()) {
            for (String entry : located.value().features()) {
                String viewName = entry.contains(":") ? FeatureRef.parse(entry).view() : entry;
                FeatureView view = views.get(viewName);
                if (view == null) {
                    throw located.node().error("feature service '" + located.value().name() + "' names unknown feature view '" + viewName + "'",
                            views.isEmpty() ? "define the feature view first" : "feature views: " + String.join(", ", new TreeSet<>(views.keySet())));
                }
                if (entry.contains(":") && view.feature(FeatureRef.parse(entry).feature()).isEmpty()) {
                    throw located.node().error("feature service '" + located.value().name() + "' names unknown feature '" + entry + "'",
                            "features of " + viewName + ": " + String.join(", ", view.featureNames()));
                }
            }
        }
    }

    private static void checkView(Located<FeatureView> located, Map<String, Entity> entities, Datasets datasets) {
        FeatureView view = located.value();
        Schema schema;
        try {
            schema = datasets.load(view.source().dataset()).schema();
        } catch (GranaryException e) {
            throw located.node().error("feature view '" + view.name() + "': source " + e.getMessage(), e.hint());
        }
        String where = "feature view '" + view.name() + "'";
        for (String entityName : view.entities()) {
            Entity entity = entities.get(entityName);
            if (entity == null) {
                throw located.node().error(where + " names unknown entity '" + entityName + "'",
                        entities.isEmpty() ? "define it under entities:" : "entities: " + String.join(", ", new TreeSet<>(entities.keySet())));
            }
            Types.NestedField column = column(located, schema, entity.joinKey(), "join key of entity '" + entityName + "'");
            if (!entity.valueType().accepts(column.type())) {
                throw located.node().error(where + ": join key " + entity.joinKey() + " is " + TypeNames.describe(column.type())
                        + " in " + view.source().dataset() + ", but entity '" + entityName + "' is " + entity.valueType(),
                        "give the entity value_type " + ValueType.of(column.type()));
            }
        }
        checkTimestamp(located, schema, view.source().timestampField(), "timestamp_field");
        if (view.source().createdTimestamp().isPresent()) {
            checkTimestamp(located, schema, view.source().createdTimestampField(), "created_timestamp_field");
        }
        for (Feature feature : view.features()) {
            Types.NestedField column = column(located, schema, feature.name(), "feature");
            if (!feature.dtype().accepts(column.type())) {
                throw located.node().error(where + ": feature " + feature.name() + " is " + TypeNames.describe(column.type())
                        + " in " + view.source().dataset() + ", which cannot be served as " + feature.dtype(),
                        "use dtype " + ValueType.of(column.type()) + " for it");
            }
        }
    }

    private static Types.NestedField column(Located<FeatureView> located, Schema schema, String name, String what) {
        Types.NestedField column = schema.findField(name);
        if (column == null) {
            FeatureView view = located.value();
            throw located.node().error("feature view '" + view.name() + "': " + what + " '" + name + "' is not a column of "
                    + view.source().dataset(), "its columns: " + String.join(", ", schema.columns().stream().map(Types.NestedField::name).toList()));
        }
        return column;
    }

    private static void checkTimestamp(Located<FeatureView> located, Schema schema, String name, String key) {
        Types.NestedField column = column(located, schema, name, key);
        Type.TypeID type = column.type().typeId();
        if (type != Type.TypeID.TIMESTAMP && type != Type.TypeID.DATE) {
            throw located.node().error("feature view '" + located.value().name() + "': " + key + " " + name + " is "
                    + TypeNames.describe(column.type()) + ", not a timestamp", "point " + key + " at a timestamp or timestamptz column");
        }
    }

    static List<String> names(Map<String, ?> map) {
        return List.copyOf(new TreeSet<>(map.keySet()));
    }
}
