package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteResult;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "overwrite", mixinStandardHelpOptions = true,
        description = {
            "Replace a dataset's rows with those of files, in one atomic commit (earlier snapshots stay readable).",
            "Fails, writing nothing, if another writer committed meanwhile.",
        })
public final class OverwriteCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NS.NAME[@BRANCH]", description = "The dataset, or one of its branches.")
    String target;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "FILE", description = "CSV, JSON Lines or Parquet files (with --engine spark also URIs and directories).")
    List<String> files;

    @Option(names = "--partitions", description = "Replace only the partitions the files have rows in.")
    boolean onlyPartitions;

    @Mixin
    WriteFlags flags;

    @Override
    protected void run() {
        long start = System.nanoTime();
        String command = onlyPartitions ? "dataset overwrite --partitions" : "dataset overwrite";
        WriteResult result = flags.onSpark()
                ? context().sparkIngest().overwrite(DatasetRef.parse(target), files, onlyPartitions, flags.format(),
                        Provenance.of(command + " --engine spark", List.of()))
                : context().datasets().overwrite(DatasetRef.parse(target), WriteFlags.localPaths(files), onlyPartitions, flags.options(),
                        Provenance.of(command, List.of()));
        WriteOutput.print(out(), "overwrote", result, Duration.ofNanos(System.nanoTime() - start));
    }
}
