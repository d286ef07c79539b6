package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "diff", mixinStandardHelpOptions = true, description = "Show what `feature apply FILE.yaml` would change, without changing it.")
public final class DiffCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "FILE.yaml")
    Path file;

    @Override
    protected void run() {
        Plans plans = Plans.of(file, context().registry(), context().datasets());
        plans.changes().forEach(change -> out().println(change));
        long changed = plans.changed();
        out().println(changed == 0 ? "no changes" : changed + " change" + (changed == 1 ? "" : "s") + " (run `granary feature apply " + file + "`)");
    }
}
