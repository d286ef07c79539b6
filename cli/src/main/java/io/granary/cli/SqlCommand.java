package io.granary.cli;

import io.granary.cli.output.TextTable;
import io.granary.dataset.spark.SparkQueries;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sql", mixinStandardHelpOptions = true,
        description = {
            "Run a Spark SQL query over the datasets (Spark starts in this process; it takes a few seconds).",
            "Datasets are tables NS.NAME; read a version with NS.NAME VERSION AS OF <snapshot-id or 'tag'>.",
        })
public final class SqlCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "QUERY")
    String query;

    @Option(names = {"-n", "--rows"}, paramLabel = "N", defaultValue = "20", description = "Most rows to print (default: ${DEFAULT-VALUE}).")
    int rows;

    @Override
    protected void run() {
        Dataset<Row> result = context().queries().query(query);
        String[] columns = result.columns();
        List<Row> collected;
        try {
            collected = result.limit(rows + 1).collectAsList();
        } catch (Exception e) {
            throw SparkQueries.queryError(e);
        }
        TextTable table = new TextTable(columns);
        for (Row row : collected.subList(0, Math.min(rows, collected.size()))) {
            Object[] cells = new Object[columns.length];
            for (int i = 0; i < cells.length; i++) {
                cells[i] = row.isNullAt(i) ? "null" : row.get(i);
            }
            table.add(cells);
        }
        table.print(out());
        out().println(collected.size() > rows ? "(first " + rows + " rows)" : "(" + collected.size() + " rows)");
    }
}
