package io.granary.feature.registry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Human-readable differences between two versions of a registry object, for `feature diff`. */
final class Differences {

    private Differences() {}

    static List<String> between(Object before, Object after) {
        List<String> details = new ArrayList<>();
        if (before instanceof FeatureView a && after instanceof FeatureView b) {
            field(details, "entities", a.entities(), b.entities());
            field(details, "ttl", io.granary.common.Durations.format(Duration.ofSeconds(a.ttlSeconds())),
                    io.granary.common.Durations.format(Duration.ofSeconds(b.ttlSeconds())));
            field(details, "online", a.online(), b.online());
            field(details, "source", describe(a.source()), describe(b.source()));
            Map<String, ValueType> old = dtypes(a);
            Map<String, ValueType> updated = dtypes(b);
            updated.forEach((name, type) -> {
                if (!old.containsKey(name)) {
                    details.add("feature " + name + " " + type + " added");
                } else if (old.get(name) != type) {
                    details.add("feature " + name + " " + old.get(name) + " -> " + type);
                }
            });
            old.keySet().stream().filter(name -> !updated.containsKey(name)).forEach(name -> details.add("feature " + name + " removed"));
            field(details, "description", a.description(), b.description());
        } else if (before instanceof Entity a && after instanceof Entity b) {
            field(details, "join_key", a.joinKey(), b.joinKey());
            field(details, "value_type", a.valueType(), b.valueType());
            field(details, "description", a.description(), b.description());
        } else if (before instanceof FeatureService a && after instanceof FeatureService b) {
            field(details, "features", a.features(), b.features());
            field(details, "description", a.description(), b.description());
        }
        return details;
    }

    private static void field(List<String> details, String name, Object before, Object after) {
        if (!Objects.equals(before, after)) {
            details.add(name + " " + before + " -> " + after);
        }
    }

    private static String describe(FeatureSource source) {
        return source.dataset() + "(" + source.timestampField() + source.createdTimestamp().map(c -> ", " + c).orElse("") + ")";
    }

    private static Map<String, ValueType> dtypes(FeatureView view) {
        Map<String, ValueType> types = new LinkedHashMap<>();
        view.features().forEach(f -> types.put(f.name(), f.dtype()));
        return types;
    }
}
