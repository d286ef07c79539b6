package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.dataset.DatasetName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "drop", mixinStandardHelpOptions = true, description = "Remove a dataset from the catalog, with its files.")
public final class DropCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NS.NAME")
    String name;

    @Option(names = "--keep-files", description = "Only unregister it; leave its data and metadata files.")
    boolean keepFiles;

    @Override
    protected void run() {
        context().datasets().drop(DatasetName.parse(name), !keepFiles);
        out().println("dropped " + name + (keepFiles ? " (files kept)" : ""));
    }
}
