package io.granary.sample.component;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;

/**
 * {@code sample}: keeps each row of a class with that class's rate (negatives at
 * {@code negative_rate}, others at 1, or per class with {@code rates}) and records 1/rate as the
 * row's weight, so that weighted statistics and losses stay unbiased. Whether a row is kept is a
 * hash of its values and the seed: the same on every run. Optionally drops duplicate rows first.
 */
public final class Sample implements Component {

    @Override
    public String name() {
        return "sample";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "negative down-sampling (the rate kept as a weight column), per-class rates, dedup";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(
                Argument.required("input", "the rows to sample"),
                Argument.required("label_column", "the label: negatives are false, 0 or empty"),
                Argument.optional("negative_rate", "the share of negative rows to keep (default 1: all)"),
                Argument.optional("rates", "a rate per label value, e.g. {\"0\": 0.1, \"1\": 1.0} (instead of negative_rate)"),
                Argument.optional("seed", "the seed of the deterministic choice (default 0)"),
                Argument.optional("weight_column", "the column holding 1/rate (default: weight)"),
                Argument.optional("dedup", "columns whose equal values make rows duplicates: one of each is kept"));
    }

    @Override
    public java.util.Optional<String> notInProcess(NodeArgs args) {
        return args.strings("dedup").isEmpty() ? java.util.Optional.empty() : java.util.Optional.of("dedup needs Spark");
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return args.strings("dedup").isEmpty();
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        TableArg input = args.table("input");
        args.requireColumn("label_column", input, args.string("label_column"));
        double negativeRate = args.number("negative_rate", 1.0);
        if (!(negativeRate > 0 && negativeRate <= 1)) {
            throw args.error("negative_rate", "rate " + negativeRate + " is not in (0, 1]", "give the share of negatives to keep, e.g. 0.2");
        }
        for (Map.Entry<String, Object> rate : args.map("rates").entrySet()) {
            if (!(rate.getValue() instanceof Number number) || !(number.doubleValue() > 0 && number.doubleValue() <= 1)) {
                throw args.error("rates", "the rate of class '" + rate.getKey() + "' is not a number in (0, 1]", "e.g. rates: {\"0\": 0.1}");
            }
        }
        args.strings("dedup").forEach(column -> args.requireColumn("dedup", input, column));
        String weight = args.optionalString("weight_column").orElse("weight");
        if (input.column(weight).isPresent()) {
            throw args.error("weight_column", "the rows already have a column '" + weight + "'", "name the weight column otherwise");
        }
        List<Column> output = new ArrayList<>(input.columns());
        output.add(new Column(weight, "double"));
        return output;
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        TableArg input = args.table("input");
        if (context.inProcess(input)) {
            org.apache.iceberg.Schema schema = LocalTables.schema(context.datasets(), input, List.of());
            if (args.strings("dedup").isEmpty() && LocalTables.plain(schema)) {
                return inProcess(args, context, input, schema);
            }
            if (context.engine() == Engine.local) {
                throw new io.granary.common.GranaryException("node " + args.node() + " cannot run in process: "
                        + (args.strings("dedup").isEmpty() ? "a column of its input is of a type it does not hold" : "dedup needs Spark"),
                        "use --engine auto or spark");
            }
        }
        Dataset<Row> rows = context.read(input);
        long seed = args.whole("seed", 0);
        List<String> dedup = args.strings("dedup");
        if (!dedup.isEmpty()) {
            // of duplicates, the one whose values hash lowest: the same one on every run
            rows = rows.withColumn("__granary_dup", functions.row_number().over(Window.partitionBy(dedup.stream()
                            .map(c -> functions.col(SqlExpressions.quote(c))).toArray(org.apache.spark.sql.Column[]::new))
                            .orderBy(functions.xxhash64(input.columnNames().stream().map(c -> functions.col(SqlExpressions.quote(c)))
                                    .toArray(org.apache.spark.sql.Column[]::new)))))
                    .where(functions.col("__granary_dup").equalTo(1)).drop("__granary_dup");
        }
        org.apache.spark.sql.Column label = functions.col(SqlExpressions.quote(args.string("label_column")));
        org.apache.spark.sql.Column rate;
        Map<String, Object> rates = args.map("rates");
        if (!rates.isEmpty()) {
            rate = functions.lit(1.0);
            for (Map.Entry<String, Object> entry : rates.entrySet()) {
                rate = functions.when(label.cast("string").equalTo(entry.getKey())
                        .or(label.cast("string").equalTo(entry.getKey().equals("1") ? "true" : entry.getKey().equals("0") ? "false" : entry.getKey())),
                        ((Number) entry.getValue()).doubleValue()).otherwise(rate);
            }
        } else {
            org.apache.spark.sql.Column negative = label.isNull().or(label.cast("double").equalTo(0.0))
                    .or(label.cast("string").equalTo("false"));
            rate = functions.when(negative, args.number("negative_rate", 1.0)).otherwise(1.0);
        }
        String weight = args.optionalString("weight_column").orElse("weight");
        Dataset<Row> sampled = rows.withColumn("__granary_rate", rate)
                .where(RowHash.uniform(seed, input.columnNames()).lt(functions.col("__granary_rate")))
                .withColumn(weight, functions.lit(1.0).divide(functions.col("__granary_rate")))
                .drop("__granary_rate");
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("negative_rate", args.number("negative_rate", 1.0));
        return new NodeResult.Frame(sampled, values);
    }

    /** The same choice of rows in this process: the same hash of each row as Spark's, so the same rows are kept. */
    private static NodeResult inProcess(NodeArgs args, RunContext context, TableArg input, org.apache.iceberg.Schema schema) {
        long seed = args.whole("seed", 0);
        String labelColumn = args.string("label_column");
        Map<String, Object> rates = args.map("rates");
        double negativeRate = args.number("negative_rate", 1.0);
        String weight = args.optionalString("weight_column").orElse("weight");
        List<org.apache.iceberg.types.Types.NestedField> columns = new ArrayList<>(schema.columns());
        List<org.apache.iceberg.types.Types.NestedField> outputColumns = new ArrayList<>(columns);
        outputColumns.add(org.apache.iceberg.types.Types.NestedField.optional(0, weight, org.apache.iceberg.types.Types.DoubleType.get()));
        org.apache.iceberg.Schema output = LocalTables.schemaOf(outputColumns);
        org.apache.iceberg.data.GenericRecord template = org.apache.iceberg.data.GenericRecord.create(output);
        org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> kept = org.apache.iceberg.io.CloseableIterable.transform(
                org.apache.iceberg.io.CloseableIterable.filter(LocalTables.read(context.datasets(), input, List.of()),
                        row -> SparkHash.uniform(seed, row, columns) < rate(row.getField(labelColumn), rates, negativeRate)),
                row -> {
                    org.apache.iceberg.data.Record out = template.copy();
                    for (int i = 0; i < columns.size(); i++) {
                        out.set(i, row.get(i));
                    }
                    out.set(columns.size(), 1.0 / rate(row.getField(labelColumn), rates, negativeRate));
                    return out;
                });
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("negative_rate", negativeRate);
        return new NodeResult.Records(output, kept, values);
    }

    /** A row's rate from its label, as the Spark path's expression has it. */
    private static double rate(Object label, Map<String, Object> rates, double negativeRate) {
        if (!rates.isEmpty()) {
            String text = label == null ? null : label.toString();
            double rate = 1.0;
            for (Map.Entry<String, Object> entry : rates.entrySet()) {
                String alias = entry.getKey().equals("1") ? "true" : entry.getKey().equals("0") ? "false" : entry.getKey();
                if (text != null && (text.equals(entry.getKey()) || text.equals(alias) || numericEquals(label, entry.getKey()))) {
                    rate = ((Number) entry.getValue()).doubleValue();
                }
            }
            return rate;
        }
        boolean negative = label == null || label.equals(Boolean.FALSE) || (label instanceof Number number && number.doubleValue() == 0.0)
                || "false".equals(label.toString()) || (label instanceof CharSequence text && isZero(text.toString()));
        return negative ? negativeRate : 1.0;
    }

    private static boolean isZero(String text) {
        try {
            return Double.parseDouble(text.trim()) == 0.0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Spark casts a number label to text as "1" for 1, "1.5" for 1.5: a whole double compares with "1" as "1.0". */
    private static boolean numericEquals(Object label, String key) {
        return label instanceof Long || label instanceof Integer ? String.valueOf(((Number) label).longValue()).equals(key) : false;
    }
}
