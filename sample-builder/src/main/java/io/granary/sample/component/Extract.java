package io.granary.sample.component;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * {@code extract}: the rows of a dataset to start from, optionally only some columns, rows
 * matching a Spark SQL filter, and rows whose time column falls in [from, to).
 */
public final class Extract implements Component {

    @Override
    public String name() {
        return "extract";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "the rows of a dataset: some columns, a filter, a time range";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(
                Argument.required("dataset", "the dataset to read (a dataset parameter)"),
                Argument.optional("columns", "the columns to keep (default: all)"),
                Argument.optional("filter", "a Spark SQL condition rows must meet, e.g. ext = 'wav'"),
                Argument.optional("time_column", "the column the time range applies to"),
                Argument.optional("from", "keep rows at or after this time (ISO-8601)"),
                Argument.optional("to", "keep rows before this time (ISO-8601)"));
    }

    @Override
    public String mainInput() {
        return "dataset";
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return true;
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        TableArg table = args.table("dataset");
        List<String> columns = args.strings("columns");
        columns.forEach(column -> args.requireColumn("columns", table, column));
        args.optionalString("filter").ifPresent(filter -> SqlExpressions.requireColumns(args, "filter", filter, table));
        if (args.has("from") || args.has("to")) {
            String timeColumn = args.optionalString("time_column").orElseThrow(() ->
                    args.error("time_column", "from/to need a time column", "name the column the time range applies to"));
            Column column = args.requireColumn("time_column", table, timeColumn);
            if (!column.isTime()) {
                throw args.error("time_column", "column " + timeColumn + " is " + column.type() + ", not a time", "name a timestamp or date column");
            }
            for (String bound : List.of("from", "to")) {
                args.optionalString(bound).ifPresent(text -> Times.parse(args, bound, text));
            }
        }
        return columns.isEmpty() ? table.columns() : columns.stream().map(name -> table.column(name).orElseThrow()).toList();
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        Dataset<Row> rows = context.read(args.table("dataset"));
        List<String> columns = args.strings("columns");
        if (!columns.isEmpty()) {
            rows = rows.select(columns.stream().map(c -> functions.col(SqlExpressions.quote(c))).toArray(org.apache.spark.sql.Column[]::new));
        }
        if (args.has("filter")) {
            rows = rows.where(args.string("filter"));
        }
        if (args.has("from")) {
            rows = rows.where(functions.col(SqlExpressions.quote(args.string("time_column")))
                    .geq(functions.lit(java.sql.Timestamp.from(Times.parse(args, "from", args.string("from"))))));
        }
        if (args.has("to")) {
            rows = rows.where(functions.col(SqlExpressions.quote(args.string("time_column")))
                    .lt(functions.lit(java.sql.Timestamp.from(Times.parse(args, "to", args.string("to"))))));
        }
        return new NodeResult.Frame(rows, java.util.Map.of());
    }
}
