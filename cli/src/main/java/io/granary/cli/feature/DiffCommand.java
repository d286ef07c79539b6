package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.feature.registry.Change;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "diff", mixinStandardHelpOptions = true, description = "Show what `feature apply FILE.yaml` would change, without changing it.")
public final class DiffCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "FILE.yaml")
    Path file;

    @Override
    protected void run() {
        Definitions definitions = Definitions.parse(file);
        Registry registry = context().registry();
        DefinitionChecker.check(definitions, registry.load(), context().datasets());
        List<Change> changes = registry.plan(definitions);
        changes.forEach(change -> out().println(change));
        long changed = changes.stream().filter(c -> c.action() != Change.Action.UNCHANGED).count();
        out().println(changed == 0 ? "no changes" : changed + " change" + (changed == 1 ? "" : "s") + " (run `granary feature apply " + file + "`)");
    }
}
