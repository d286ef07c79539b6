package io.granary.sample.component;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code stats}: rows, label balance, and per column the null rate and (for numbers) min, max and
 * mean, over all rows and per split. They are the node's values (rows, label_rate, mean_COL, ...;
 * per split NAME__SPLIT, e.g. rows__train) and its output table (split, column, metric, value),
 * which also keeps the counts and sums they come from, so that rows appended to its input are
 * merged into them without reading the rest again. {@code bounds} fails the node when a value falls
 * outside them.
 */
public final class Stats implements Component {

    private static final String ALL = "all";

    @Override
    public String name() {
        return "stats";
    }

    @Override
    public String version() {
        return "2";
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
    public java.util.Optional<String> notInProcess(NodeArgs args) {
        return java.util.Optional.empty();
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return false;
    }

    /** Every statistic is a count, a sum, a minimum or a maximum, or a ratio of them: new rows merge in. */
    @Override
    public boolean mergeable(NodeArgs args) {
        return true;
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

    /** One statistic's running state: how it is computed over rows, and how two states of it combine. */
    private enum Kind {
        COUNT, SUM, MIN, MAX;

        double merge(double a, double b) {
            return switch (this) {
                case COUNT, SUM -> a + b;
                case MIN -> Math.min(a, b);
                case MAX -> Math.max(a, b);
            };
        }
    }

    private record Metric(String column, String metric, Kind kind, org.apache.spark.sql.Column aggregate) {}

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        TableArg input = args.table("input");
        boolean local = context.inProcess(input) && LocalTables.plain(LocalTables.schema(context.datasets(), input, List.of()));
        if (context.engine() == Engine.local && !local) {
            throw new io.granary.common.GranaryException("node " + args.node() + " cannot run in process: a column of its input is of a type "
                    + "it does not hold", "use --engine auto or spark");
        }
        String split = args.optionalString("split_column").orElse(input.column("split").isPresent() ? "split" : null);
        List<String> columns = args.strings("columns").isEmpty() ? input.columnNames().stream().filter(c -> !c.equals(split)).toList()
                : args.strings("columns");
        List<Metric> metrics = new ArrayList<>();
        metrics.add(new Metric("", "rows", Kind.COUNT, functions.count(functions.lit(1)).cast("double")));
        args.optionalString("label_column").ifPresent(label -> {
            org.apache.spark.sql.Column value = functions.col(SqlExpressions.quote(label));
            org.apache.spark.sql.Column asNumber = functions.when(value.cast("string").equalTo("true"), 1.0)
                    .when(value.cast("string").equalTo("false"), 0.0).otherwise(value.cast("double"));
            metrics.add(new Metric(label, "label_sum", Kind.SUM, functions.sum(asNumber).cast("double")));
            metrics.add(new Metric(label, "label_count", Kind.COUNT, functions.count(asNumber).cast("double")));
        });
        for (String name : columns) {
            org.apache.spark.sql.Column value = functions.col(SqlExpressions.quote(name));
            metrics.add(new Metric(name, "nulls", Kind.SUM, functions.sum(functions.when(value.isNull(), 1.0).otherwise(0.0))));
            if (input.column(name).map(Column::isNumeric).orElse(false)) {
                metrics.add(new Metric(name, "count", Kind.COUNT, functions.count(value).cast("double")));
                metrics.add(new Metric(name, "sum", Kind.SUM, functions.sum(value.cast("double"))));
                metrics.add(new Metric(name, "min", Kind.MIN, functions.min(value).cast("double")));
                metrics.add(new Metric(name, "max", Kind.MAX, functions.max(value).cast("double")));
            }
        }
        // the states by split ("all" for every row): computed over the rows given, merged into the last output's if there is one
        Map<String, double[]> states = local ? statesInProcess(context, input, split, metrics) : states(context.read(input), split, metrics);
        if (context.previousOutput().isPresent()) {
            Map<String, double[]> previous = local
                    ? previousStatesInProcess(context, context.previousOutput().get(), metrics)
                    : previousStates(context.read(context.previousOutput().get()), metrics);
            previous.forEach((name, state) -> states.merge(name, state, (now, before) -> {
                double[] merged = new double[now.length];
                for (int m = 0; m < now.length; m++) {
                    merged[m] = Double.isNaN(now[m]) ? before[m] : Double.isNaN(before[m]) ? now[m] : metrics.get(m).kind().merge(now[m], before[m]);
                }
                return merged;
            }));
        }
        Map<String, Object> values = new LinkedHashMap<>();
        List<Row> table = new ArrayList<>();
        for (Map.Entry<String, double[]> entry : states.entrySet()) {
            String suffix = entry.getKey().equals(ALL) ? "" : "__" + entry.getKey();
            double[] state = entry.getValue();
            Map<String, Double> byName = new LinkedHashMap<>();
            for (int m = 0; m < metrics.size(); m++) {
                Metric metric = metrics.get(m);
                Double value = Double.isNaN(state[m]) ? null : state[m];
                table.add(RowFactory.create(entry.getKey(), metric.column(), metric.metric(), value));
                byName.put(metric.column() + "/" + metric.metric(), value);
            }
            double total = state[0];
            values.put("rows" + suffix, total);
            args.optionalString("label_column").ifPresent(label -> values.put("label_rate" + suffix,
                    ratio(byName.get(label + "/label_sum"), byName.get(label + "/label_count"))));
            for (String name : columns) {
                values.put("null_rate_" + name + suffix, ratio(byName.get(name + "/nulls"), total));
                table.add(RowFactory.create(entry.getKey(), name, "null_rate", ratio(byName.get(name + "/nulls"), total)));
                if (byName.containsKey(name + "/sum")) {
                    Double mean = ratio(byName.get(name + "/sum"), byName.get(name + "/count"));
                    values.put("min_" + name + suffix, byName.get(name + "/min"));
                    values.put("max_" + name + suffix, byName.get(name + "/max"));
                    values.put("mean_" + name + suffix, mean);
                    table.add(RowFactory.create(entry.getKey(), name, "mean", mean));
                }
            }
        }
        checkBounds(args, values);
        if (local) {
            org.apache.iceberg.Schema schema = new org.apache.iceberg.Schema(
                    org.apache.iceberg.types.Types.NestedField.optional(1, "split", org.apache.iceberg.types.Types.StringType.get()),
                    org.apache.iceberg.types.Types.NestedField.optional(2, "column", org.apache.iceberg.types.Types.StringType.get()),
                    org.apache.iceberg.types.Types.NestedField.optional(3, "metric", org.apache.iceberg.types.Types.StringType.get()),
                    org.apache.iceberg.types.Types.NestedField.optional(4, "value", org.apache.iceberg.types.Types.DoubleType.get()));
            List<org.apache.iceberg.data.Record> records = new ArrayList<>();
            org.apache.iceberg.data.GenericRecord template = org.apache.iceberg.data.GenericRecord.create(schema);
            for (Row row : table) {
                org.apache.iceberg.data.Record record = template.copy();
                for (int i = 0; i < 4; i++) {
                    record.set(i, row.get(i));
                }
                records.add(record);
            }
            return new NodeResult.Records(schema, org.apache.iceberg.io.CloseableIterable.withNoopClose(records), values);
        }
        StructType schema = new StructType().add("split", DataTypes.StringType).add("column", DataTypes.StringType)
                .add("metric", DataTypes.StringType).add("value", DataTypes.DoubleType);
        return new NodeResult.Frame(context.spark().createDataFrame(table, schema), values);
    }

    /** {@link #states} in this process: one pass over the rows, each metric's count, sum, minimum or maximum as Spark's aggregate gives it. */
    private static Map<String, double[]> statesInProcess(RunContext context, TableArg input, String split, List<Metric> metrics) {
        Map<String, double[]> states = new TreeMap<>();
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows = LocalTables.read(context.datasets(), input, List.of())) {
            for (org.apache.iceberg.data.Record row : rows) {
                double[] all = states.computeIfAbsent(ALL, k -> empty(metrics));
                add(all, row, metrics);
                if (split != null) {
                    Object name = row.getField(split);
                    add(states.computeIfAbsent(name == null ? "none" : name.toString(), k -> empty(metrics)), row, metrics);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        states.computeIfAbsent(ALL, k -> empty(metrics));
        return states;
    }

    /** A state before any row: counts at 0, sums, minima and maxima without a value (NaN). */
    private static double[] empty(List<Metric> metrics) {
        double[] state = new double[metrics.size()];
        for (int m = 0; m < metrics.size(); m++) {
            state[m] = metrics.get(m).kind() == Kind.COUNT ? 0 : Double.NaN;
        }
        return state;
    }

    private static void add(double[] state, org.apache.iceberg.data.Record row, List<Metric> metrics) {
        for (int m = 0; m < metrics.size(); m++) {
            Metric metric = metrics.get(m);
            Double value = switch (metric.metric()) {
                case "rows" -> 1.0;
                case "label_sum", "label_count" -> labelNumber(row.getField(metric.column()));
                case "nulls" -> row.getField(metric.column()) == null ? 1.0 : 0.0;
                default -> row.getField(metric.column()) == null ? null : ((Number) row.getField(metric.column())).doubleValue();
            };
            if (value == null) {
                continue;
            }
            state[m] = switch (metric.kind()) {
                case COUNT -> state[m] + 1;
                case SUM -> Double.isNaN(state[m]) ? value : state[m] + value;
                case MIN -> Double.isNaN(state[m]) ? value : Math.min(state[m], value);
                case MAX -> Double.isNaN(state[m]) ? value : Math.max(state[m], value);
            };
        }
    }

    /** A label as the Spark path's expression reads it: true 1, false 0, else its number (null if it has none). */
    private static Double labelNumber(Object label) {
        if (label == null) {
            return null;
        }
        if (label instanceof Boolean bool) {
            return bool ? 1.0 : 0.0;
        }
        if (label instanceof Number number) {
            return number.doubleValue();
        }
        try {
            return Double.parseDouble(label.toString().trim());
        } catch (NumberFormatException e) {
            return label.toString().equals("true") ? 1.0 : label.toString().equals("false") ? 0.0 : null;
        }
    }

    /** {@link #previousStates} read in this process. */
    private static Map<String, double[]> previousStatesInProcess(RunContext context, TableArg previous, List<Metric> metrics) {
        Map<String, double[]> states = new TreeMap<>();
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows = LocalTables.read(context.datasets(), previous, List.of())) {
            for (org.apache.iceberg.data.Record row : rows) {
                for (int m = 0; m < metrics.size(); m++) {
                    if (metrics.get(m).column().equals(row.getField("column")) && metrics.get(m).metric().equals(row.getField("metric"))) {
                        double[] state = states.computeIfAbsent((String) row.getField("split"), k -> {
                            double[] none = new double[metrics.size()];
                            java.util.Arrays.fill(none, Double.NaN);
                            return none;
                        });
                        Object value = row.getField("value");
                        state[m] = value == null ? Double.NaN : (Double) value;
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return states;
    }

    private static Double ratio(Double numerator, Double denominator) {
        return numerator == null || denominator == null || denominator == 0 ? null : numerator / denominator;
    }

    /** Each metric's state per split and over all rows (NaN where a metric has no value), in one pass. */
    private static Map<String, double[]> states(Dataset<Row> rows, String split, List<Metric> metrics) {
        org.apache.spark.sql.Column first = metrics.get(0).aggregate();
        org.apache.spark.sql.Column[] rest = metrics.subList(1, metrics.size()).stream().map(Metric::aggregate)
                .toArray(org.apache.spark.sql.Column[]::new);
        Map<String, double[]> states = new TreeMap<>();
        if (split == null) {
            states.put(ALL, state(rows.agg(first, rest).first(), 0, metrics.size()));
            return states;
        }
        // per split, with a rollup row over all of them (whose split is null)
        Dataset<Row> grouped = rows.withColumn("__granary_split", functions.coalesce(functions.col(SqlExpressions.quote(split)).cast("string"),
                functions.lit("none"))).rollup("__granary_split").agg(first, rest);
        for (Row row : grouped.collectAsList()) {
            states.put(row.isNullAt(0) ? ALL : row.getString(0), state(row, 1, metrics.size()));
        }
        return states;
    }

    private static double[] state(Row row, int from, int count) {
        double[] state = new double[count];
        for (int m = 0; m < count; m++) {
            state[m] = row.isNullAt(from + m) ? Double.NaN : ((Number) row.get(from + m)).doubleValue();
        }
        return state;
    }

    /** The states a previous output recorded, by split. */
    private static Map<String, double[]> previousStates(Dataset<Row> previous, List<Metric> metrics) {
        Map<String, double[]> states = new TreeMap<>();
        for (Row row : previous.collectAsList()) {
            String split = row.getString(0);
            for (int m = 0; m < metrics.size(); m++) {
                if (metrics.get(m).column().equals(row.getString(1)) && metrics.get(m).metric().equals(row.getString(2))) {
                    double[] state = states.computeIfAbsent(split, s -> {
                        double[] empty = new double[metrics.size()];
                        java.util.Arrays.fill(empty, Double.NaN);
                        return empty;
                    });
                    state[m] = row.isNullAt(3) ? Double.NaN : row.getDouble(3);
                }
            }
        }
        return states;
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
