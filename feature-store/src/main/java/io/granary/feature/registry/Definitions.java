package io.granary.feature.registry;

import io.granary.common.Durations;
import io.granary.common.GranaryException;
import io.granary.common.yaml.YamlNode;
import io.granary.dataset.DatasetName;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The entities, feature views and feature services of one definitions file, as parsed: shape and
 * names are checked here (each error at its file:line); what needs the catalog is checked by
 * {@link DefinitionChecker}.
 */
public record Definitions(List<Located<Entity>> entities, List<Located<FeatureView>> featureViews,
                          List<Located<FeatureService>> featureServices) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final String NAME_HINT = "names are letters, digits and underscores, not starting with a digit";

    public static Definitions parse(Path file) {
        return parse(YamlNode.parse(file));
    }

    static Definitions parse(YamlNode root) {
        Map<String, YamlNode> top = root.asMapWithKeys(List.of("entities", "feature_views", "feature_services"));
        if (top.isEmpty()) {
            throw new GranaryException("no definitions in " + root.source(),
                    "define entities:, feature_views: and feature_services: (see examples/features.yaml)");
        }
        List<Located<Entity>> entities = new ArrayList<>();
        for (YamlNode node : YamlNode.optional(top, "entities").map(YamlNode::asList).orElse(List.of())) {
            entities.add(new Located<>(entity(node), node));
        }
        List<Located<FeatureView>> views = new ArrayList<>();
        for (YamlNode node : YamlNode.optional(top, "feature_views").map(YamlNode::asList).orElse(List.of())) {
            views.add(new Located<>(featureView(node), node));
        }
        List<Located<FeatureService>> services = new ArrayList<>();
        for (YamlNode node : YamlNode.optional(top, "feature_services").map(YamlNode::asList).orElse(List.of())) {
            services.add(new Located<>(featureService(node), node));
        }
        requireUnique(entities, Entity::name, "entity");
        requireUnique(views, FeatureView::name, "feature view");
        requireUnique(services, FeatureService::name, "feature service");
        return new Definitions(entities, views, services);
    }

    private static Entity entity(YamlNode node) {
        Map<String, YamlNode> entry = node.asMapWithKeys(List.of("name", "join_key", "value_type", "description"));
        String name = name(node, entry, "name");
        String joinKey = YamlNode.optional(entry, "join_key").map(YamlNode::asString).orElse(name);
        requireName(entry.getOrDefault("join_key", node), joinKey);
        return new Entity(name, joinKey, valueType(node.required(entry, "value_type")),
                YamlNode.optional(entry, "description").map(YamlNode::asString).orElse(""));
    }

    private static FeatureView featureView(YamlNode node) {
        Map<String, YamlNode> entry = node.asMapWithKeys(List.of("name", "entities", "ttl", "online", "source", "features", "description"));
        String name = name(node, entry, "name");
        List<String> entities = node.required(entry, "entities").asStringList();
        if (entities.isEmpty()) {
            throw node.error("feature view '" + name + "' has no entities", "list the entities its rows describe, e.g. entities: [user]");
        }
        YamlNode ttlNode = entry.get("ttl");
        long ttl = 0;
        if (ttlNode != null && !ttlNode.isNull()) {
            String text = ttlNode.asString();
            try {
                ttl = text.trim().equals("0") ? 0 : Durations.parse(text, "ttl").getSeconds();
            } catch (GranaryException e) {
                throw ttlNode.error(e.getMessage(), e.hint() + " (0 means rows never expire)");
            }
        }
        boolean online = YamlNode.optional(entry, "online").map(YamlNode::asBoolean).orElse(true);

        YamlNode sourceNode = node.required(entry, "source");
        Map<String, YamlNode> source = sourceNode.asMapWithKeys(List.of("dataset", "timestamp_field", "created_timestamp_field"));
        YamlNode datasetNode = sourceNode.required(source, "dataset");
        DatasetName dataset;
        try {
            dataset = DatasetName.parse(datasetNode.asString());
        } catch (GranaryException e) {
            throw datasetNode.error(e.getMessage(), e.hint());
        }
        String timestamp = sourceNode.required(source, "timestamp_field").asString();
        String created = YamlNode.optional(source, "created_timestamp_field").map(YamlNode::asString).orElse(null);

        List<Feature> features = new ArrayList<>();
        Map<String, YamlNode> seen = new HashMap<>();
        for (YamlNode featureNode : node.required(entry, "features").asList()) {
            Map<String, YamlNode> feature = featureNode.asMapWithKeys(List.of("name", "dtype"));
            String featureName = name(featureNode, feature, "name");
            if (seen.put(featureName, featureNode) != null) {
                throw featureNode.error("feature '" + featureName + "' appears twice in view '" + name + "'", "remove one of them");
            }
            features.add(new Feature(featureName, valueType(featureNode.required(feature, "dtype"))));
        }
        if (features.isEmpty()) {
            throw node.error("feature view '" + name + "' has no features", "list its features with their dtypes");
        }
        return new FeatureView(name, entities, ttl, online, new FeatureSource(dataset, timestamp, created), features,
                YamlNode.optional(entry, "description").map(YamlNode::asString).orElse(""));
    }

    private static FeatureService featureService(YamlNode node) {
        Map<String, YamlNode> entry = node.asMapWithKeys(List.of("name", "features", "description"));
        String name = name(node, entry, "name");
        List<String> features = node.required(entry, "features").asStringList();
        if (features.isEmpty()) {
            throw node.error("feature service '" + name + "' has no features", "list view:feature references or whole views");
        }
        for (String feature : features) {
            if (feature.contains(":")) {
                try {
                    FeatureRef.parse(feature);
                } catch (GranaryException e) {
                    throw entry.get("features").error(e.getMessage(), e.hint());
                }
            }
        }
        return new FeatureService(name, features, YamlNode.optional(entry, "description").map(YamlNode::asString).orElse(""));
    }

    private static String name(YamlNode node, Map<String, YamlNode> entry, String key) {
        YamlNode value = node.required(entry, key);
        String name = value.asString().trim();
        requireName(value, name);
        return name;
    }

    private static void requireName(YamlNode node, String name) {
        if (!NAME.matcher(name).matches()) {
            throw node.error("illegal name '" + name + "'", NAME_HINT);
        }
    }

    private static ValueType valueType(YamlNode node) {
        try {
            return ValueType.parse(node.asString());
        } catch (GranaryException e) {
            throw node.error(e.getMessage(), e.hint());
        }
    }

    private static <T> void requireUnique(List<Located<T>> items, java.util.function.Function<T, String> name, String kind) {
        Map<String, Located<T>> seen = new HashMap<>();
        for (Located<T> item : items) {
            Located<T> earlier = seen.put(name.apply(item.value()), item);
            if (earlier != null) {
                throw item.node().error(kind + " '" + name.apply(item.value()) + "' is defined twice (first at " + earlier.node().where() + ")",
                        "rename or remove one of them");
            }
        }
    }
}
