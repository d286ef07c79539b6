package io.granary.feature.registry;

/** The kinds of registry objects, and the folder each is kept in. */
public enum Kind {
    ENTITY("entities", "entity", Entity.class),
    FEATURE_VIEW("feature_views", "feature view", FeatureView.class),
    FEATURE_SERVICE("feature_services", "feature service", FeatureService.class);

    final String folder;
    final String label;
    final Class<?> type;

    Kind(String folder, String label, Class<?> type) {
        this.folder = folder;
        this.label = label;
        this.type = type;
    }

    public String label() {
        return label;
    }
}
