package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.dataset.DatasetInfo;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.SnapshotInfo;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List datasets, in one namespace or in all.")
public final class ListCommand extends Subcommand {

    @Parameters(index = "0", arity = "0..1", paramLabel = "NS", description = "Only this namespace.")
    String namespace;

    @Override
    protected void run() {
        Datasets datasets = context().datasets();
        List<DatasetName> names = datasets.list(Optional.ofNullable(namespace));
        if (names.isEmpty()) {
            out().println(namespace == null ? "no datasets yet: create one with `granary dataset create NS.NAME --from FILE`"
                    : "no datasets in " + namespace);
            return;
        }
        TextTable table = new TextTable("dataset", "rows", "size", "snapshots", "last commit").alignRight(1, 2, 3);
        for (DatasetName name : names) {
            DatasetInfo dataset = datasets.describe(DatasetRef.latest(name));
            if (dataset.snapshot().isEmpty()) {
                table.add(name, 0, Formats.bytes(0), 0, "-");
            } else {
                SnapshotInfo info = dataset.snapshot().get();
                table.add(name, Formats.count(info.totalRows()), Formats.bytes(info.totalBytes()), dataset.snapshotCount(),
                        Formats.time(info.committedAt()));
            }
        }
        table.print(out());
    }
}
