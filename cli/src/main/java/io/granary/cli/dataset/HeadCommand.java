package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.cli.output.TextTable;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.ResolvedRef;
import io.granary.dataset.ValueText;
import java.util.List;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "head", mixinStandardHelpOptions = true, description = "Print the first rows of a dataset at a version.")
public final class HeadCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "REF", description = "NS.NAME, optionally @SNAPSHOT_ID, @TAG, @BRANCH or @ts=TIME.")
    String ref;

    @Option(names = {"-n", "--rows"}, paramLabel = "N", defaultValue = "10", description = "How many rows (default: ${DEFAULT-VALUE}).")
    int rows;

    @Override
    protected void run() {
        DatasetRef parsed = DatasetRef.parse(ref);
        ResolvedRef resolved = context().datasets().resolve(parsed);
        List<Types.NestedField> columns = resolved.schema().columns();
        List<Record> records = context().datasets().head(parsed, rows);
        TextTable table = new TextTable(columns.stream().map(Types.NestedField::name).toArray(String[]::new));
        for (Record record : records) {
            Object[] cells = new Object[columns.size()];
            for (int i = 0; i < cells.length; i++) {
                Object value = record.getField(columns.get(i).name());
                cells[i] = value == null ? "null" : ValueText.text(value);
            }
            table.add(cells);
        }
        table.print(out());
        out().println("(" + records.size() + " row" + (records.size() == 1 ? "" : "s") + " of " + resolved.pinned() + ")");
    }
}
