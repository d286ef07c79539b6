package io.granary.feature.registry;

import io.granary.common.GranaryException;

/** A feature named as Feast does, "view:feature". */
public record FeatureRef(String view, String feature) {

    public static FeatureRef parse(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1 || text.indexOf(':', colon + 1) >= 0) {
            throw new GranaryException("invalid feature reference '" + text + "'", "write VIEW:FEATURE, e.g. user_stats:clicks_7d");
        }
        return new FeatureRef(text.substring(0, colon).trim(), text.substring(colon + 1).trim());
    }

    /** The name in responses: the bare feature, or "view__feature" with full feature names. */
    public String outputName(boolean fullFeatureNames) {
        return fullFeatureNames ? view + "__" + feature : feature;
    }

    @Override
    public String toString() {
        return view + ":" + feature;
    }
}
