package io.granary.dataset.spark;

import java.util.Map;

/**
 * Where Spark jobs run: {@code master} ("local[*]" in one JVM by default; "yarn", "k8s://...",
 * "spark://..." on a cluster) and any other {@code spark.*} settings, passed through.
 */
public record SparkSettings(String master, Map<String, String> conf) {

    public SparkSettings {
        conf = Map.copyOf(conf);
    }

    public static SparkSettings local() {
        return new SparkSettings("local[*]", Map.of());
    }

    public boolean isLocal() {
        return master.startsWith("local");
    }
}
