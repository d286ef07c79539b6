package io.granary.sample.component;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * {@code split}: names each row's split (train/validation/test, or any names) by ratio: at random
 * (a hash of the row and the seed), by a hash of one column (so that an entity never crosses
 * splits), or by time (the earliest rows first; no row of a later split is earlier than its
 * split's boundary). The same rows land in the same splits on every run.
 */
public final class Split implements Component {

    private static final java.util.regex.Pattern SPLIT_NAME = java.util.regex.Pattern.compile("[a-z][a-z0-9_]{0,31}");

    @Override
    public String name() {
        return "split";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "train/validation/test by ratio: random, by a hash of a column, or by time";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(
                Argument.required("input", "the rows to split"),
                Argument.required("ratios", "split names and shares, e.g. {train: 0.8, validation: 0.1, test: 0.1} (by: and time_column: may be given here too)"),
                Argument.optional("by", "a column: rows with equal values land in one split"),
                Argument.optional("time_column", "split by time: the earliest rows go to the first split"),
                Argument.optional("seed", "the seed of the hash (default 0)"),
                Argument.optional("column", "the column that names the split (default: split)"));
    }

    /** The split names and shares, in order: the numeric entries of ratios. */
    static Map<String, Double> ratios(NodeArgs args) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : args.map("ratios").entrySet()) {
            if (entry.getValue() instanceof Number number) {
                if (!SPLIT_NAME.matcher(entry.getKey()).matches()) {
                    throw args.error("ratios", "illegal split name '" + entry.getKey() + "'", "lowercase letters, digits and underscores");
                }
                ratios.put(entry.getKey(), number.doubleValue());
            }
        }
        return ratios;
    }

    private static java.util.Optional<String> option(NodeArgs args, String name) {
        if (args.has(name)) {
            return args.optionalString(name);
        }
        Object inRatios = args.map("ratios").get(name);
        return inRatios == null ? java.util.Optional.empty() : java.util.Optional.of(inRatios.toString());
    }

    @Override
    public java.util.Optional<String> notInProcess(NodeArgs args) {
        return option(args, "time_column").isPresent() ? java.util.Optional.of("a split by time needs Spark") : java.util.Optional.empty();
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return option(args, "time_column").isEmpty();
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        TableArg input = args.table("input");
        for (Map.Entry<String, Object> entry : args.map("ratios").entrySet()) {
            if (!(entry.getValue() instanceof Number) && !List.of("by", "time_column", "seed").contains(entry.getKey())) {
                throw args.error("ratios", "'" + entry.getKey() + "' is not a share (a number)", "give each split a share, e.g. train: 0.8");
            }
        }
        Map<String, Double> ratios = ratios(args);
        if (ratios.isEmpty()) {
            throw args.error("ratios", "no splits given", "e.g. {train: 0.8, validation: 0.1, test: 0.1}");
        }
        double sum = 0;
        for (Map.Entry<String, Double> ratio : ratios.entrySet()) {
            if (!(ratio.getValue() > 0 && ratio.getValue() <= 1)) {
                throw args.error("ratios", "the share of " + ratio.getKey() + " is " + ratio.getValue() + ", not in (0, 1]", "give shares that add up to 1");
            }
            sum += ratio.getValue();
        }
        if (Math.abs(sum - 1) > 1e-6) {
            throw args.error("ratios", "the shares add up to " + sum + ", not 1", "adjust them, e.g. {train: 0.8, validation: 0.1, test: 0.1}");
        }
        option(args, "by").ifPresent(by -> args.requireColumn("by", input, by));
        option(args, "time_column").ifPresent(time -> {
            Column column = args.requireColumn("time_column", input, time);
            if (!column.isTime()) {
                throw args.error("time_column", time + " is " + column.type() + ", not a time", "name a timestamp or date column");
            }
        });
        if (option(args, "by").isPresent() && option(args, "time_column").isPresent()) {
            throw args.error("by", "split by a column or by time, not both", "drop by: or time_column:");
        }
        String column = args.optionalString("column").orElse("split");
        if (input.column(column).isPresent()) {
            throw args.error("column", "the rows already have a column '" + column + "'", "name the split column otherwise (column: ...)");
        }
        List<Column> output = new ArrayList<>(input.columns());
        output.add(new Column(column, "string"));
        return output;
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        TableArg input = args.table("input");
        Map<String, Double> ratios = ratios(args);
        String column = args.optionalString("column").orElse("split");
        long seed = args.has("seed") ? args.whole("seed", 0) : option(args, "seed").map(Long::parseLong).orElse(0L);
        List<String> names = new ArrayList<>(ratios.keySet());
        Map<String, Object> values = new LinkedHashMap<>();
        org.apache.spark.sql.Column position;
        java.util.Optional<String> time = option(args, "time_column");
        if (time.isPresent() && context.engine() == Engine.local) {
            throw new io.granary.common.GranaryException("node " + args.node() + " cannot run in process: a split by time needs Spark",
                    "use --engine auto or spark");
        }
        if (time.isPresent()) {
            Dataset<Row> rows = context.read(input);
            // boundaries at the time quantiles of the shares: a split holds the rows from its boundary to the next one's
            org.apache.spark.sql.Column micros = functions.unix_micros(functions.col(SqlExpressions.quote(time.get())).cast("timestamp"));
            rows = rows.withColumn("__granary_t", micros);
            double[] probabilities = new double[names.size() - 1];
            double cumulative = 0;
            for (int i = 0; i < probabilities.length; i++) {
                cumulative += ratios.get(names.get(i));
                probabilities[i] = cumulative;
            }
            double[] quantiles = probabilities.length == 0 ? new double[0]
                    : rows.where(functions.col("__granary_t").isNotNull()).stat().approxQuantile("__granary_t", probabilities, 0.0);
            // a split starts at the first time after the quantile: rows tied at it stay in the earlier split
            long[] starts = new long[quantiles.length];
            if (quantiles.length > 0) {
                List<org.apache.spark.sql.Column> firsts = new ArrayList<>();
                for (double quantile : quantiles) {
                    firsts.add(functions.min(functions.when(functions.col("__granary_t").gt((long) quantile), functions.col("__granary_t"))));
                }
                Row first = rows.agg(firsts.get(0), firsts.subList(1, firsts.size()).toArray(org.apache.spark.sql.Column[]::new)).first();
                for (int i = 0; i < starts.length; i++) {
                    starts[i] = first.isNullAt(i) ? Long.MAX_VALUE : first.getLong(i);
                }
            }
            org.apache.spark.sql.Column split = functions.lit(names.get(0));
            for (int i = 0; i < starts.length; i++) {
                split = functions.when(functions.col("__granary_t").geq(starts[i]), names.get(i + 1)).otherwise(split);
                if (starts[i] != Long.MAX_VALUE) {
                    values.put("boundary_" + names.get(i + 1), Instant.EPOCH.plusNanos(starts[i] * 1000).toString());
                }
            }
            return new NodeResult.Frame(rows.withColumn(column, split).drop("__granary_t"), values);
        }
        if (context.inProcess(input)) {
            org.apache.iceberg.Schema schema = LocalTables.schema(context.datasets(), input, List.of());
            if (LocalTables.plain(schema)) {
                return inProcess(context, input, schema, names, ratios, column, seed, option(args, "by"));
            }
            if (context.engine() == Engine.local) {
                throw new io.granary.common.GranaryException("node " + args.node() + " cannot run in process: a column of its input is of a type "
                        + "it does not hold", "use --engine auto or spark");
            }
        }
        Dataset<Row> rows = context.read(input);
        position = RowHash.uniform(seed, option(args, "by").map(List::of).orElse(input.columnNames()));
        org.apache.spark.sql.Column split = functions.lit(names.get(names.size() - 1));
        double cumulative = 1.0;
        for (int i = names.size() - 2; i >= 0; i--) {
            cumulative -= ratios.get(names.get(i + 1));
            split = functions.when(position.lt(cumulative), names.get(i)).otherwise(split);
        }
        return new NodeResult.Frame(rows.withColumn(column, split), values);
    }

    /** The same split in this process: Spark's hash of the same values, the same thresholds. */
    private static NodeResult inProcess(RunContext context, TableArg input, org.apache.iceberg.Schema schema, List<String> names,
                                        Map<String, Double> ratios, String column, long seed, java.util.Optional<String> by) {
        List<org.apache.iceberg.types.Types.NestedField> columns = schema.columns();
        List<org.apache.iceberg.types.Types.NestedField> hashed = by.map(name -> List.of(schema.findField(name))).orElse(columns);
        // the thresholds of the Spark path's chain: below cumulative share i, split i
        double[] below = new double[names.size() - 1];
        double cumulative = 1.0;
        for (int i = names.size() - 2; i >= 0; i--) {
            cumulative -= ratios.get(names.get(i + 1));
            below[i] = cumulative;
        }
        List<org.apache.iceberg.types.Types.NestedField> outputColumns = new ArrayList<>(columns);
        outputColumns.add(org.apache.iceberg.types.Types.NestedField.optional(0, column, org.apache.iceberg.types.Types.StringType.get()));
        org.apache.iceberg.Schema output = LocalTables.schemaOf(outputColumns);
        org.apache.iceberg.data.GenericRecord template = org.apache.iceberg.data.GenericRecord.create(output);
        return new NodeResult.Records(output, org.apache.iceberg.io.CloseableIterable.transform(
                LocalTables.read(context.datasets(), input, List.of()), row -> {
                    double position = SparkHash.uniform(seed, row, hashed);
                    String split = names.get(names.size() - 1);
                    for (int i = names.size() - 2; i >= 0; i--) {
                        if (position < below[i]) {
                            split = names.get(i);
                        }
                    }
                    org.apache.iceberg.data.Record out = template.copy();
                    for (int i = 0; i < columns.size(); i++) {
                        out.set(i, row.get(i));
                    }
                    out.set(columns.size(), split);
                    return out;
                }), Map.of());
    }
}
