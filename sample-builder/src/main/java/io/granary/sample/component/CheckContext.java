package io.granary.sample.component;

import io.granary.dataset.Datasets;
import io.granary.feature.registry.RegistryState;

/** What a component may look at while checking its arguments: the catalog and the feature registry (never Spark). */
public record CheckContext(Datasets datasets, RegistryState registry) {}
