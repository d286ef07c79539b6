package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "apply", mixinStandardHelpOptions = true,
        description = {
            "Check and register the entities, feature views and feature services of a YAML file.",
            "Applying the same file twice changes nothing; a changed definition gets a new version, the old one stays readable.",
        })
public final class ApplyCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "FILE.yaml")
    Path file;

    @Override
    protected void run() {
        Registry registry = context().registry();
        Plans plans = Plans.of(file, registry, context().datasets());
        RegistryState state = registry.apply(plans.definitions());
        plans.changes().forEach(change -> out().println(change));
        long changed = plans.changed();
        out().println(changed == 0 ? "nothing to change (registry generation " + state.generation() + ")"
                : "applied " + changed + " change" + (changed == 1 ? "" : "s") + ": registry generation " + state.generation());
    }
}
