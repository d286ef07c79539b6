package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.common.Durations;
import io.granary.dataset.DatasetName;
import io.granary.dataset.ExpireResult;
import io.granary.dataset.SnapshotInfo;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "expire", mixinStandardHelpOptions = true,
        description = {
            "Remove snapshots older than a duration. Never removes a tagged snapshot or a branch head;",
            "always keeps the last N of each branch. A data file is deleted once the snapshot that removed it expires.",
        })
public final class ExpireCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NS.NAME")
    String name;

    @Option(names = "--older-than", required = true, paramLabel = "AGE", description = "e.g. 7d, 12h, 30m.")
    String olderThan;

    @Option(names = "--retain-last", paramLabel = "N", defaultValue = "1",
            description = "Keep at least this many recent snapshots per branch (default: ${DEFAULT-VALUE}).")
    int retainLast;

    @Override
    protected void run() {
        Instant cutoff = Instant.now().minus(Durations.parse(olderThan, "--older-than"));
        ExpireResult result = context().datasets().expire(DatasetName.parse(name), cutoff, retainLast);
        if (result.expired().isEmpty()) {
            out().println("nothing to expire in " + name + " (no snapshot older than " + Formats.time(cutoff) + " may go)");
        } else {
            out().println("expired " + result.expired().size() + " snapshot" + (result.expired().size() == 1 ? "" : "s") + " of " + name + ":");
            for (SnapshotInfo snapshot : result.expired()) {
                out().println("  " + snapshot.id() + "  " + Formats.time(snapshot.committedAt()) + "  " + snapshot.operation()
                        + snapshot.provenance().map(p -> "  " + p.command()).orElse(""));
            }
        }
        long protectedCount = result.kept().stream().filter(s -> !s.refs().isEmpty()).count();
        out().println("kept " + result.kept().size() + " (" + protectedCount + " tagged or branch heads)");
    }
}
