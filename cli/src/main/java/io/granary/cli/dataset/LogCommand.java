package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.dataset.DatasetName;
import io.granary.dataset.SnapshotInfo;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "log", mixinStandardHelpOptions = true,
        description = "Snapshot history of a dataset, newest first: id, time, operation, rows added and removed, who and what made it.")
public final class LogCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NS.NAME")
    String name;

    @Override
    protected void run() {
        List<SnapshotInfo> history = context().datasets().history(DatasetName.parse(name));
        if (history.isEmpty()) {
            out().println(name + " has no snapshots yet");
            return;
        }
        TextTable table = new TextTable("snapshot", "committed", "operation", "+rows", "-rows", "rows", "by", "command", "refs")
                .alignRight(3, 4, 5);
        for (SnapshotInfo snapshot : history) {
            table.add(snapshot.id(), Formats.time(snapshot.committedAt()), snapshot.operation(),
                    Formats.count(snapshot.addedRows()), Formats.count(snapshot.deletedRows()), Formats.count(snapshot.totalRows()),
                    snapshot.provenance().map(p -> p.user()).orElse("-"),
                    snapshot.provenance().map(p -> p.command()).orElse("(not granary)"),
                    String.join(" ", snapshot.refs()));
        }
        table.print(out());
    }
}
