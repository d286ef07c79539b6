package io.granary.feature.registry;

import io.granary.dataset.DatasetName;
import java.util.Optional;

/**
 * Where a view's rows come from: a Granary dataset, the column with each row's event time, and
 * optionally the column with the time it was computed (which breaks ties between rows of one
 * entity at the same event time: the later computed wins).
 */
public record FeatureSource(DatasetName dataset, String timestampField, String createdTimestampField) {

    public Optional<String> createdTimestamp() {
        return Optional.ofNullable(createdTimestampField);
    }
}
