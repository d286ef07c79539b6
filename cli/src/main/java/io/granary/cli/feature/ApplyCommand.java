package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.feature.registry.Change;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.nio.file.Path;
import java.util.List;
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
        Definitions definitions = Definitions.parse(file);
        Registry registry = context().registry();
        DefinitionChecker.check(definitions, registry.load(), context().datasets());
        List<Change> changes = registry.plan(definitions);
        RegistryState state = registry.apply(definitions);
        changes.forEach(change -> out().println(change));
        long changed = changes.stream().filter(c -> c.action() != Change.Action.UNCHANGED).count();
        out().println(changed == 0 ? "nothing to change (registry generation " + state.generation() + ")"
                : "applied " + changed + " change" + (changed == 1 ? "" : "s") + ": registry generation " + state.generation());
    }
}
