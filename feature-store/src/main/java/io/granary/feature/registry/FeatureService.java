package io.granary.feature.registry;

import java.util.List;

/**
 * A named set of features a model uses, so that clients ask for "ctr_v1" rather than list its
 * features. Entries are "view:feature" or a whole "view".
 */
public record FeatureService(String name, List<String> features, String description) {

    public FeatureService {
        features = List.copyOf(features);
        description = description == null ? "" : description;
    }
}
