package io.granary.cli.feature;

import io.granary.dataset.Datasets;
import io.granary.feature.registry.Change;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import java.nio.file.Path;
import java.util.List;

/** What `feature apply` and `feature diff` share: a definitions file, checked, and its changes. */
record Plans(Definitions definitions, List<Change> changes) {

    static Plans of(Path file, Registry registry, Datasets datasets) {
        Definitions definitions = Definitions.parse(file);
        DefinitionChecker.check(definitions, registry.load(), datasets);
        return new Plans(definitions, registry.plan(definitions));
    }

    long changed() {
        return changes.stream().filter(c -> c.action() != Change.Action.UNCHANGED).count();
    }
}
