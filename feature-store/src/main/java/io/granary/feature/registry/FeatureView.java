package io.granary.feature.registry;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Features of some entities, read from one source dataset. A row is valid for {@code ttl} after its
 * event time (0: forever); {@code online} views are materialized into the online store.
 */
public record FeatureView(String name, List<String> entities, long ttlSeconds, boolean online, FeatureSource source,
                          List<Feature> features, String description) {

    public FeatureView {
        entities = List.copyOf(entities);
        features = List.copyOf(features);
        description = description == null ? "" : description;
    }

    public Duration ttl() {
        return Duration.ofSeconds(ttlSeconds);
    }

    public Optional<Feature> feature(String featureName) {
        return features.stream().filter(f -> f.name().equals(featureName)).findFirst();
    }

    public List<String> featureNames() {
        return features.stream().map(Feature::name).toList();
    }
}
