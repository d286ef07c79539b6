package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteResult;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "append", mixinStandardHelpOptions = true,
        description = "Add the rows of files (or of a query) to a dataset in one atomic commit; prints the new snapshot.")
public final class AppendCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NS.NAME[@BRANCH]", description = "The dataset, or one of its branches.")
    String target;

    @Parameters(index = "1..*", paramLabel = "FILE", description = "CSV, JSON Lines or Parquet files (with --engine spark also URIs and directories).")
    List<String> files = List.of();

    @Option(names = "--query", paramLabel = "SQL", description = "Append the rows of a Spark SQL query instead of files.")
    String query;

    @Mixin
    WriteFlags flags;

    @Override
    protected void run() {
        DatasetRef ref = DatasetRef.parse(target);
        long start = System.nanoTime();
        WriteResult result;
        if (query != null) {
            if (!files.isEmpty() || ref.version().isPresent()) {
                throw new GranaryException("--query appends to the main branch and takes no files", "drop the files or the @version");
            }
            result = context().queries().append(ref.dataset(), query, Provenance.of("dataset append --query " + query, List.of()));
        } else if (flags.onSpark()) {
            result = context().sparkIngest().append(ref, files, flags.format(), Provenance.of("dataset append --engine spark", List.of()));
        } else {
            result = context().datasets().append(ref, WriteFlags.localPaths(files), flags.options(), Provenance.of("dataset append", List.of()));
        }
        WriteOutput.print(out(), "appended to", result, Duration.ofNanos(System.nanoTime() - start));
    }
}
