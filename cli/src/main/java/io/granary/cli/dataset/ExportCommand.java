package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Export;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a dataset version to one .parquet, .csv or .jsonl file (written whole, then renamed into place).")
public final class ExportCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "REF")
    String ref;

    @Option(names = "--to", required = true, paramLabel = "FILE", description = "Target file; the extension picks the format.")
    Path target;

    @Override
    protected void run() {
        long rows = Export.toFile(context().datasets(), DatasetRef.parse(ref), target);
        out().println("exported " + Formats.count(rows) + " rows of " + ref + " to " + target);
    }
}
