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
    public java.util.Optional<String> notInProcess(NodeArgs args) {
        return args.has("filter") ? java.util.Optional.of("its filter is Spark SQL") : java.util.Optional.empty();
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
        TableArg table = args.table("dataset");
        if (context.inProcess(table)) {
            if (!args.has("filter")) {
                return inProcess(args, context, table);
            }
            if (context.engine() == Engine.local) {
                throw new io.granary.common.GranaryException("node " + args.node() + " cannot run in process: its filter is Spark SQL",
                        "use --engine auto or spark, or leave the filter out");
            }
        }
        Dataset<Row> rows = context.read(table);
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

    /** The same rows read and written in this process (no filter: that is Spark SQL). */
    private static NodeResult inProcess(NodeArgs args, RunContext context, TableArg table) {
        List<String> columns = args.strings("columns");
        org.apache.iceberg.Schema schema = LocalTables.schema(context.datasets(), table, columns);
        org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows = LocalTables.read(context.datasets(), table, columns);
        if (args.has("from") || args.has("to")) {
            String timeColumn = args.string("time_column");
            long from = args.has("from") ? micros(Times.parse(args, "from", args.string("from"))) : Long.MIN_VALUE;
            long to = args.has("to") ? micros(Times.parse(args, "to", args.string("to"))) : Long.MAX_VALUE;
            rows = org.apache.iceberg.io.CloseableIterable.filter(rows, row -> {
                Object time = row.getField(timeColumn);
                if (time == null) {
                    return false;
                }
                long at = io.granary.feature.online.FeatureValues.epochMicros(time);
                return at >= from && at < to;
            });
        }
        return new NodeResult.Records(schema, rows, java.util.Map.of());
    }

    private static long micros(java.time.Instant instant) {
        return java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH, instant);
    }
}
