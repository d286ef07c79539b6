package io.granary.sample.component;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code stats}: rows, label balance, and per column the null rate and (for numbers) min, max and
 * mean, over all rows and per split. They are the node's values (rows, label_rate, mean_COL, ...;
 * per split NAME__SPLIT, e.g. rows__train) and its output table (split, column, metric, value).
 * {@code bounds} fails the node when a value falls outside them.
 */
public final class Stats implements Component {

    private static final String ALL = "all";

    @Override
    public String name() {
        return "stats";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "rows, label balance, null rates, min/max/mean per column and split; checked against bounds";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(
                Argument.required("input", "the rows to describe"),
                Argument.optional("label_column", "the label, for its balance (label_rate)"),
                Argument.optional("split_column", "the column naming each row's split (default: split, when the rows have it)"),
                Argument.optional("columns", "the columns to describe (default: all)"),
                Argument.optional("bounds", "VALUE: {min: X, max: Y}, e.g. {rows: {min: 1000}, label_rate: {min: 0.01}}"));
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return false;
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        TableArg input = args.table("input");
        args.optionalString("label_column").ifPresent(label -> args.requireColumn("label_column", input, label));
        args.optionalString("split_column").ifPresent(split -> args.requireColumn("split_column", input, split));
        args.strings("columns").forEach(column -> args.requireColumn("columns", input, column));
        for (Map.Entry<String, Object> bound : args.map("bounds").entrySet()) {
            if (!(bound.getValue() instanceof Map<?, ?> range) || range.isEmpty()
                    || !range.keySet().stream().allMatch(k -> k.equals("min") || k.equals("max"))
                    || !range.values().stream().allMatch(v -> v instanceof Number)) {
                throw args.error("bounds", "bound of '" + bound.getKey() + "' is not {min: NUMBER, max: NUMBER}", "e.g. rows: {min: 1000}");
            }
        }
        return List.of(new Column("split", "string"), new Column("column", "string"), new Column("metric", "string"), new Column("value", "double"));
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        TableArg input = args.table("input");
        Dataset<Row> rows = context.read(input);
        String split = args.optionalString("split_column").orElse(input.column("split").isPresent() ? "split" : null);
        List<String> columns = args.strings("columns").isEmpty() ? input.columnNames().stream().filter(c -> !c.equals(split)).toList()
                : args.strings("columns");
        List<org.apache.spark.sql.Column> aggregates = new ArrayList<>();
        List<String[]> metrics = new ArrayList<>(); // column, metric
        aggregates.add(functions.count(functions.lit(1)).cast("double"));
        metrics.add(new String[] {"", "rows"});
        args.optionalString("label_column").ifPresent(label -> {
            org.apache.spark.sql.Column value = functions.col(SqlExpressions.quote(label));
            aggregates.add(functions.avg(functions.when(value.cast("string").equalTo("true"), 1.0).otherwise(value.cast("double"))));
            metrics.add(new String[] {label, "label_rate"});
        });
        for (String name : columns) {
            org.apache.spark.sql.Column value = functions.col(SqlExpressions.quote(name));
            aggregates.add(functions.avg(functions.when(value.isNull(), 1.0).otherwise(0.0)));
            metrics.add(new String[] {name, "null_rate"});
            if (input.column(name).map(Column::isNumeric).orElse(false)) {
                aggregates.add(functions.min(value).cast("double"));
                metrics.add(new String[] {name, "min"});
                aggregates.add(functions.max(value).cast("double"));
                metrics.add(new String[] {name, "max"});
                aggregates.add(functions.avg(value).cast("double"));
                metrics.add(new String[] {name, "mean"});
            }
        }
        org.apache.spark.sql.Column[] rest = aggregates.subList(1, aggregates.size()).toArray(org.apache.spark.sql.Column[]::new);
        Map<String, Row> bySplit = new LinkedHashMap<>();
        bySplit.put(ALL, rows.agg(aggregates.get(0), rest).first());
        if (split != null) {
            Dataset<Row> grouped = rows.groupBy(functions.col(SqlExpressions.quote(split)).cast("string").as("__granary_split"))
                    .agg(aggregates.get(0), rest);
            for (Row row : grouped.orderBy("__granary_split").collectAsList()) {
                bySplit.put(row.isNullAt(0) ? "none" : row.getString(0), dropFirst(row));
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        List<Row> table = new ArrayList<>();
        for (Map.Entry<String, Row> entry : bySplit.entrySet()) {
            for (int m = 0; m < metrics.size(); m++) {
                String column = metrics.get(m)[0];
                String metric = metrics.get(m)[1];
                Double value = entry.getValue().isNullAt(m) ? null : entry.getValue().getDouble(m);
                table.add(RowFactory.create(entry.getKey(), column, metric, value));
                String name = metric.equals("rows") || metric.equals("label_rate") ? metric : metric + "_" + column;
                values.put(entry.getKey().equals(ALL) ? name : name + "__" + entry.getKey(), value);
            }
        }
        checkBounds(args, values);
        StructType schema = new StructType().add("split", DataTypes.StringType).add("column", DataTypes.StringType)
                .add("metric", DataTypes.StringType).add("value", DataTypes.DoubleType);
        return new NodeResult.Frame(context.spark().createDataFrame(table, schema), values);
    }

    private static Row dropFirst(Row row) {
        Object[] values = new Object[row.length() - 1];
        for (int i = 1; i < row.length(); i++) {
            values[i - 1] = row.get(i);
        }
        return RowFactory.create(values);
    }

    private static void checkBounds(NodeArgs args, Map<String, Object> values) {
        for (Map.Entry<String, Object> bound : args.map("bounds").entrySet()) {
            if (!values.containsKey(bound.getKey())) {
                throw args.error("bounds", "no value '" + bound.getKey() + "' to bound", "values: " + String.join(", ", values.keySet()));
            }
            Object value = values.get(bound.getKey());
            Map<?, ?> range = (Map<?, ?>) bound.getValue();
            double actual = value == null ? Double.NaN : ((Number) value).doubleValue();
            Number min = (Number) range.get("min");
            Number max = (Number) range.get("max");
            if (Double.isNaN(actual) || (min != null && actual < min.doubleValue()) || (max != null && actual > max.doubleValue())) {
                throw args.error("bounds", bound.getKey() + " is " + value + ", outside its bounds " + range,
                        "check the data upstream, or the bounds");
            }
        }
    }
}
