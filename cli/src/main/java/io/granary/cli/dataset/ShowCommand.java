package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.dataset.DatasetInfo;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.SnapshotInfo;
import io.granary.dataset.ingest.TypeNames;
import java.io.PrintWriter;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.iceberg.types.Types;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show a dataset at a version: schema, snapshot, rows, files, bytes, tags and branches.")
public final class ShowCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "REF", description = "NS.NAME, optionally @SNAPSHOT_ID, @TAG, @BRANCH or @ts=TIME.")
    String ref;

    @Override
    protected void run() {
        DatasetInfo info = context().datasets().describe(DatasetRef.parse(ref));
        PrintWriter out = out();
        out.println("dataset    " + info.ref());
        out.println("location   " + info.location());
        out.println("format     Iceberg v" + info.formatVersion() + ", "
                + info.properties().getOrDefault("write.format.default", "parquet") + " ("
                + info.properties().getOrDefault("write.parquet.compression-codec", "zstd") + ")");
        out.println("partition  " + (info.partitionSpec().isUnpartitioned() ? "none"
                : info.partitionSpec().fields().stream()
                        .map(f -> f.transform() + "(" + info.schema().findColumnName(f.sourceId()) + ")")
                        .collect(Collectors.joining(", "))));
        if (info.snapshot().isEmpty()) {
            out.println("snapshot   none (no rows yet)");
        } else {
            SnapshotInfo snapshot = info.snapshot().get();
            out.println("snapshot   " + snapshot.id() + " committed " + Formats.time(snapshot.committedAt()) + " (" + snapshot.operation()
                    + snapshot.provenance().map(p -> ", " + p.command() + " by " + p.user()).orElse("") + ")");
            out.println("rows       " + Formats.count(snapshot.totalRows()));
            out.println("files      " + Formats.count(snapshot.totalDataFiles()) + " data files, " + Formats.bytes(snapshot.totalBytes()));
        }
        out.println("tags       " + refs(info.tags()));
        out.println("branches   " + refs(info.branches()));
        out.println();
        TextTable columns = new TextTable("column", "type", "required", "doc");
        for (Types.NestedField field : info.schema().columns()) {
            columns.add(field.name(), TypeNames.describe(field.type()), field.isRequired() ? "yes" : "no", field.doc());
        }
        columns.print(out);
    }

    private static String refs(Map<String, Long> refs) {
        return refs.isEmpty() ? "none" : refs.entrySet().stream().map(e -> e.getKey() + " -> " + e.getValue())
                .collect(Collectors.joining(", "));
    }
}
