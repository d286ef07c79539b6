package io.granary.sample.component;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * {@code transform}: new or replaced columns, each a Spark SQL expression or a named operation:
 * log1p, bucketize (by boundaries), hash (into buckets), and standardize and minmax, whose
 * statistics are fitted on one split only (the train split by default), so that nothing of the
 * validation or test rows leaks into the training data.
 */
public final class Transform implements Component {

    private static final List<String> OPS = List.of("log1p", "bucketize", "hash", "standardize", "minmax");
    private static final List<String> FITTED = List.of("standardize", "minmax");

    @Override
    public String name() {
        return "transform";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "columns from Spark SQL expressions, log1p, bucketize, hash, standardize/minmax fitted on train";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(
                Argument.required("input", "the rows to transform"),
                Argument.optional("columns", "NAME: EXPRESSION or NAME: {op: log1p|bucketize|hash|standardize|minmax, column: C, ...}"),
                Argument.optional("fit_on", "the split whose rows fit standardize and minmax (default: train)"),
                Argument.optional("split_column", "the column naming each row's split (default: split)"));
    }

    @Override
    public java.util.Optional<String> notInProcess(NodeArgs args) {
        return specs(args).values().stream().allMatch(spec -> spec instanceof Map<?, ?>) ? java.util.Optional.empty()
                : java.util.Optional.of("its Spark SQL expressions need Spark (write columns as {op: ...} to run in process)");
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return specs(args).values().stream().noneMatch(spec -> spec instanceof Map<?, ?> map && FITTED.contains(String.valueOf(map.get("op"))));
    }

    private static Map<String, Object> specs(NodeArgs args) {
        return args.map("columns");
    }

    @Override
    public boolean passesThrough(NodeArgs args) {
        return specs(args).isEmpty();
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        TableArg input = args.table("input");
        Map<String, Column> output = new LinkedHashMap<>();
        input.columns().forEach(c -> output.put(c.name(), c));
        for (Map.Entry<String, Object> entry : specs(args).entrySet()) {
            String type;
            if (entry.getValue() instanceof String expression) {
                SqlExpressions.requireColumns(args, "columns", expression, input);
                type = Column.UNKNOWN;
            } else if (entry.getValue() instanceof Map<?, ?> spec) {
                String op = String.valueOf(spec.get("op"));
                if (!OPS.contains(op)) {
                    throw args.error("columns", entry.getKey() + ": unknown op '" + op + "'", "ops: " + String.join(", ", OPS)
                            + "; or write a Spark SQL expression");
                }
                Object column = spec.get("column");
                if (!(column instanceof String name)) {
                    throw args.error("columns", entry.getKey() + ": " + op + " needs column: NAME", "name the input column it applies to");
                }
                Column source = args.requireColumn("columns", input, name);
                if (!op.equals("hash") && !source.isNumeric() && !source.type().equals(Column.UNKNOWN)) {
                    throw args.error("columns", entry.getKey() + ": " + op + " needs a number; " + name + " is " + source.type(), "pick a numeric column");
                }
                if (op.equals("bucketize") && !(spec.get("boundaries") instanceof List<?> boundaries && !boundaries.isEmpty()
                        && boundaries.stream().allMatch(b -> b instanceof Number))) {
                    throw args.error("columns", entry.getKey() + ": bucketize needs boundaries: [numbers]", "e.g. boundaries: [10, 100, 1000]");
                }
                if (op.equals("hash") && !(spec.get("buckets") instanceof Long buckets && buckets > 0)) {
                    throw args.error("columns", entry.getKey() + ": hash needs buckets: N (a positive whole number)", "e.g. buckets: 1000");
                }
                if (FITTED.contains(op)) {
                    args.requireColumn("split_column", input, args.optionalString("split_column").orElse("split"));
                }
                type = switch (op) {
                    case "bucketize" -> "int";
                    case "hash" -> "long";
                    default -> "double";
                };
            } else {
                throw args.error("columns", entry.getKey() + ": expected an expression or {op: ..., column: ...}", "see `granary sample template show`");
            }
            output.put(entry.getKey(), new Column(entry.getKey(), type));
        }
        return new ArrayList<>(output.values());
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        TableArg input = args.table("input");
        if (context.inProcess(input)) {
            org.apache.iceberg.Schema schema = LocalTables.schema(context.datasets(), input, List.of());
            boolean namedOpsOnly = specs(args).values().stream().allMatch(spec -> spec instanceof Map<?, ?>);
            if (namedOpsOnly && LocalTables.plain(schema)) {
                return inProcess(args, context, input, schema);
            }
            if (context.engine() == Engine.local) {
                throw new io.granary.common.GranaryException("node " + args.node() + " cannot run in process: "
                        + (namedOpsOnly ? "a column of its input is of a type it does not hold" : "its Spark SQL expressions need Spark"),
                        "use --engine auto or spark, or write the columns as {op: ...}");
            }
        }
        Dataset<Row> rows = context.read(input);
        Map<String, Object> values = new LinkedHashMap<>(fit(args, rows));
        for (Map.Entry<String, Object> entry : specs(args).entrySet()) {
            String name = entry.getKey();
            org.apache.spark.sql.Column column;
            if (entry.getValue() instanceof String expression) {
                column = functions.expr(expression);
            } else {
                Map<?, ?> spec = (Map<?, ?>) entry.getValue();
                org.apache.spark.sql.Column source = functions.col(SqlExpressions.quote(spec.get("column").toString()));
                column = switch (spec.get("op").toString()) {
                    case "log1p" -> functions.log1p(source.cast("double"));
                    case "bucketize" -> bucketize(source, (List<?>) spec.get("boundaries"));
                    case "hash" -> functions.pmod(functions.xxhash64(source), functions.lit((Long) spec.get("buckets")));
                    case "standardize" -> {
                        double mean = ((Number) values.get(name + "_mean")).doubleValue();
                        double std = ((Number) values.get(name + "_std")).doubleValue();
                        yield source.cast("double").minus(mean).divide(std == 0 ? 1 : std);
                    }
                    default -> {
                        double min = ((Number) values.get(name + "_min")).doubleValue();
                        double max = ((Number) values.get(name + "_max")).doubleValue();
                        yield source.cast("double").minus(min).divide(max == min ? 1 : max - min);
                    }
                };
            }
            rows = rows.withColumn(name, column);
        }
        return new NodeResult.Frame(rows, values);
    }

    /** The bucket of a value: how many boundaries are at or below it (null stays null). */
    private static org.apache.spark.sql.Column bucketize(org.apache.spark.sql.Column source, List<?> boundaries) {
        org.apache.spark.sql.Column bucket = functions.lit(0);
        for (Object boundary : boundaries) {
            bucket = bucket.plus(functions.when(source.cast("double").geq(((Number) boundary).doubleValue()), 1).otherwise(0));
        }
        return functions.when(source.isNull(), functions.lit(null).cast("int")).otherwise(bucket);
    }

    /** The statistics standardize and minmax need, from the fit_on split's rows only: NAME_mean, NAME_std, NAME_min, NAME_max. */
    private static Map<String, Object> fit(NodeArgs args, Dataset<Row> rows) {
        List<org.apache.spark.sql.Column> aggregates = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, Object> entry : specs(args).entrySet()) {
            if (entry.getValue() instanceof Map<?, ?> spec && FITTED.contains(String.valueOf(spec.get("op")))) {
                org.apache.spark.sql.Column source = functions.col(SqlExpressions.quote(spec.get("column").toString())).cast("double");
                if (spec.get("op").equals("standardize")) {
                    aggregates.add(functions.avg(source));
                    names.add(entry.getKey() + "_mean");
                    aggregates.add(functions.stddev_pop(source));
                    names.add(entry.getKey() + "_std");
                } else {
                    aggregates.add(functions.min(source));
                    names.add(entry.getKey() + "_min");
                    aggregates.add(functions.max(source));
                    names.add(entry.getKey() + "_max");
                }
            }
        }
        if (aggregates.isEmpty()) {
            return Map.of();
        }
        String split = args.optionalString("split_column").orElse("split");
        String fitOn = args.optionalString("fit_on").orElse("train");
        Row fitted = rows.where(functions.col(SqlExpressions.quote(split)).equalTo(fitOn))
                .agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(org.apache.spark.sql.Column[]::new)).first();
        Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            if (fitted.isNullAt(i)) {
                throw args.error("fit_on", "split '" + fitOn + "' has no values of " + names.get(i).replaceAll("_(mean|std|min|max)$", "")
                        + " to fit on", "check the split's name and that its rows have values");
            }
            values.put(names.get(i), fitted.getDouble(i));
        }
        return values;
    }

    /** The same columns computed in this process, named ops only (Spark SQL expressions need Spark), with Spark's functions' results. */
    private static NodeResult inProcess(NodeArgs args, RunContext context, TableArg input, org.apache.iceberg.Schema schema) {
        Map<String, Object> specs = specs(args);
        Map<String, Object> values = fitInProcess(args, context, input);
        Map<String, org.apache.iceberg.types.Types.NestedField> columns = new LinkedHashMap<>();
        schema.columns().forEach(field -> columns.put(field.name(), field));
        for (Map.Entry<String, Object> entry : specs.entrySet()) {
            String op = String.valueOf(((Map<?, ?>) entry.getValue()).get("op"));
            org.apache.iceberg.types.Type type = switch (op) {
                case "bucketize" -> org.apache.iceberg.types.Types.IntegerType.get();
                case "hash" -> org.apache.iceberg.types.Types.LongType.get();
                default -> org.apache.iceberg.types.Types.DoubleType.get();
            };
            columns.put(entry.getKey(), org.apache.iceberg.types.Types.NestedField.optional(0, entry.getKey(), type));
        }
        org.apache.iceberg.Schema output = LocalTables.schemaOf(new ArrayList<>(columns.values()));
        org.apache.iceberg.data.GenericRecord template = org.apache.iceberg.data.GenericRecord.create(output);
        return new NodeResult.Records(output, org.apache.iceberg.io.CloseableIterable.transform(
                LocalTables.read(context.datasets(), input, List.of()), row -> {
                    org.apache.iceberg.data.Record out = template.copy();
                    for (org.apache.iceberg.types.Types.NestedField field : schema.columns()) {
                        out.setField(field.name(), row.getField(field.name()));
                    }
                    for (Map.Entry<String, Object> entry : specs.entrySet()) {
                        Map<?, ?> spec = (Map<?, ?>) entry.getValue();
                        String column = spec.get("column").toString();
                        Object value = row.getField(column);
                        out.setField(entry.getKey(), apply(spec, entry.getKey(), value, schema.findField(column).type(), values));
                    }
                    return out;
                }), values);
    }

    /** One named op on one value, as the Spark path's expression computes it (null stays null). */
    private static Object apply(Map<?, ?> spec, String name, Object value, org.apache.iceberg.types.Type type, Map<String, Object> fitted) {
        if (value == null) {
            return null;
        }
        return switch (spec.get("op").toString()) {
            case "log1p" -> {
                double x = ((Number) value).doubleValue();
                yield x <= -1.0 ? null : StrictMath.log1p(x);  // Spark's log1p: null at or below -1
            }
            case "bucketize" -> {
                double x = ((Number) value).doubleValue();
                int bucket = 0;
                for (Object boundary : (List<?>) spec.get("boundaries")) {
                    bucket += x >= ((Number) boundary).doubleValue() ? 1 : 0;
                }
                yield bucket;
            }
            case "hash" -> Math.floorMod(SparkHash.hash(value, type), (Long) spec.get("buckets"));
            case "standardize" -> {
                double std = ((Number) fitted.get(name + "_std")).doubleValue();
                yield (((Number) value).doubleValue() - ((Number) fitted.get(name + "_mean")).doubleValue()) / (std == 0 ? 1 : std);
            }
            default -> {
                double min = ((Number) fitted.get(name + "_min")).doubleValue();
                double max = ((Number) fitted.get(name + "_max")).doubleValue();
                yield (((Number) value).doubleValue() - min) / (max == min ? 1 : max - min);
            }
        };
    }

    /** {@link #fit} in this process: one pass over the fit_on split's rows (Welford's running mean and variance, as Spark's). */
    private static Map<String, Object> fitInProcess(NodeArgs args, RunContext context, TableArg input) {
        List<String> fitted = new ArrayList<>();
        specs(args).forEach((name, spec) -> {
            if (spec instanceof Map<?, ?> map && FITTED.contains(String.valueOf(map.get("op")))) {
                fitted.add(name);
            }
        });
        if (fitted.isEmpty()) {
            return Map.of();
        }
        String split = args.optionalString("split_column").orElse("split");
        String fitOn = args.optionalString("fit_on").orElse("train");
        int n = fitted.size();
        long[] count = new long[n];
        double[] mean = new double[n];
        double[] m2 = new double[n];
        double[] min = new double[n];
        double[] max = new double[n];
        java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows = LocalTables.read(context.datasets(), input, List.of())) {
            for (org.apache.iceberg.data.Record row : rows) {
                if (!fitOn.equals(String.valueOf(row.getField(split)))) {
                    continue;
                }
                for (int f = 0; f < n; f++) {
                    Object value = row.getField(((Map<?, ?>) specs(args).get(fitted.get(f))).get("column").toString());
                    if (value == null) {
                        continue;
                    }
                    double x = ((Number) value).doubleValue();
                    count[f]++;
                    double delta = x - mean[f];
                    mean[f] += delta / count[f];
                    m2[f] += delta * (x - mean[f]);
                    min[f] = Math.min(min[f], x);
                    max[f] = Math.max(max[f], x);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (int f = 0; f < n; f++) {
            String name = fitted.get(f);
            if (count[f] == 0) {
                throw args.error("fit_on", "split '" + fitOn + "' has no values of " + name + " to fit on",
                        "check the split's name and that its rows have values");
            }
            if (String.valueOf(((Map<?, ?>) specs(args).get(name)).get("op")).equals("standardize")) {
                values.put(name + "_mean", mean[f]);
                values.put(name + "_std", Math.sqrt(m2[f] / count[f]));
            } else {
                values.put(name + "_min", min[f]);
                values.put(name + "_max", max[f]);
            }
        }
        return values;
    }
}
