package io.granary.cli.sample;

import io.granary.cli.Subcommand;
import io.granary.sample.SamplePipelines;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "gc", mixinStandardHelpOptions = true,
        description = {"Drop the node tables (namespace granary_samples) that none of the last N runs of any pipeline references.",
            "A pipeline being run is left alone."})
public final class GcCommand extends Subcommand {

    @Option(names = "--keep", paramLabel = "N", defaultValue = "5", description = "Runs of each pipeline whose tables are kept (default: ${DEFAULT-VALUE}).")
    int keep;

    @Override
    protected void run() {
        SamplePipelines.Collected collected = context().samplePipelines(List.of()).gc(keep);
        out().printf("dropped %d node table%s no kept run references%s%n", collected.dropped().size(), collected.dropped().size() == 1 ? "" : "s",
                collected.busy().isEmpty() ? "" : "; left alone, being run: " + String.join(", ", collected.busy()));
    }
}
