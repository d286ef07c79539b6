package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.dataset.DatasetRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "lineage", mixinStandardHelpOptions = true,
        description = "The upstream graph of a snapshot: the commits whose rows it holds, their inputs, and theirs.")
public final class LineageCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "REF")
    String ref;

    @Override
    protected void run() {
        Formats.tree(out(), context().datasets().lineage(DatasetRef.parse(ref)));
    }
}
