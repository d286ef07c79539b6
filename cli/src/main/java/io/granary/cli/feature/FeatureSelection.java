package io.granary.cli.feature;

import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.RegistryState;
import java.util.List;
import picocli.CommandLine.Option;

/** Which features a command reads: a list of VIEW:FEATURE, or a feature service (exactly one of them). */
final class FeatureSelection {

    @Option(names = "--features", split = ",", paramLabel = "VIEW:FEATURE", required = true)
    List<String> features;

    @Option(names = "--service", paramLabel = "NAME", required = true, description = "A feature service instead of --features.")
    String service;

    /** The features, checked against the registry: unknown views, features and services fail, named. */
    List<FeatureRef> resolve(RegistryState registry) {
        return service != null ? registry.resolveService(service) : registry.resolve(features);
    }

    String describe() {
        return service != null ? "--service " + service : "--features " + String.join(",", features);
    }
}
