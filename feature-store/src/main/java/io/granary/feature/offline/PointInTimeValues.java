package io.granary.feature.offline;

import io.granary.feature.registry.FeatureView;
import java.util.List;
import java.util.Optional;

/**
 * A point-in-time engine asked for the values of one view's features for some entity keys at one
 * time: what training data built by that engine holds for entity rows of those keys at that time.
 * Both engines answer it, so that what the online store serves can be checked against either.
 */
public interface PointInTimeValues {

    /**
     * For each key (its join key values in the view's entity order, as {@code EntityKeys} decodes
     * them), the values of all of {@code view}'s features at {@code atMicros}, read from the view's
     * source at {@code sourceSnapshot} (else its current snapshot); nulls where no row is in range.
     * Values are as Iceberg's generic records hold them.
     */
    List<Object[]> valuesAt(FeatureView view, Optional<Long> sourceSnapshot, List<List<Object>> keys, long atMicros);
}
