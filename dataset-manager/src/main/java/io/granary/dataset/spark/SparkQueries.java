package io.granary.dataset.spark;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteResult;
import io.granary.dataset.catalog.CatalogSettings;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.spark.CommitMetadata;
import org.apache.iceberg.spark.source.SparkTable;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameWriterV2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2Relation;
import org.apache.spark.sql.functions;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Datasets made by Spark SQL over other datasets, e.g. daily statistics from click events. The
 * commit records the query and every input dataset pinned to the snapshot it read, so lineage
 * follows the data from raw files through derived tables.
 */
public final class SparkQueries {

    private static final Pattern TRANSFORM = Pattern.compile("(\\w+)\\s*\\(\\s*(?:(\\d+)\\s*,\\s*)?(\\w+)\\s*\\)");

    private final SparkSession spark;
    private final Datasets datasets;

    public SparkQueries(SparkSession spark, Datasets datasets) {
        this.spark = spark;
        this.datasets = datasets;
    }

    /** Runs a query; errors in it name the problem as Spark reports it. */
    public Dataset<Row> query(String sql) {
        try {
            return spark.sql(sql);
        } catch (Exception e) {
            throw queryError(e);
        }
    }

    /** Spark throws its (Java-checked) AnalysisException unchecked, from Scala: look at the type. */
    public static RuntimeException queryError(Throwable e) {
        if (e instanceof org.apache.spark.sql.catalyst.parser.ParseException parse) {
            return new GranaryException("cannot parse the query: " + parse.getMessage(), "check the SQL syntax", e);
        }
        if (e instanceof AnalysisException analysis) {
            return new GranaryException("cannot run the query: " + analysis.getSimpleMessage(),
                    "tables are NS.NAME (see `granary dataset list`); versions read as NS.NAME VERSION AS OF <snapshot-id>", e);
        }
        return e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
    }

    /** The Granary datasets a query reads, each pinned to the snapshot it reads ("demo.clicks@4711"). */
    public static List<String> inputsOf(Dataset<Row> frame) {
        Set<String> inputs = new LinkedHashSet<>();
        LogicalPlan plan = frame.queryExecution().analyzed();
        for (LogicalPlan leaf : CollectionConverters.asJava(plan.collectLeaves())) {
            if (leaf instanceof DataSourceV2Relation relation && relation.table() instanceof SparkTable sparkTable
                    && relation.identifier().isDefined()) {
                var identifier = relation.identifier().get();
                if (identifier.namespace().length != 1) {
                    continue;
                }
                Table table = sparkTable.table();
                Long snapshotId = sparkTable.snapshotId();
                if (snapshotId == null && sparkTable.branch() != null) {
                    Snapshot head = table.snapshot(sparkTable.branch());
                    snapshotId = head == null ? null : head.snapshotId();
                }
                if (snapshotId == null && table.currentSnapshot() != null) {
                    snapshotId = table.currentSnapshot().snapshotId();
                }
                String name = identifier.namespace()[0] + "." + identifier.name();
                inputs.add(snapshotId == null ? name : name + "@" + snapshotId);
            }
        }
        return new ArrayList<>(inputs);
    }

    /** Creates {@code name} from the rows of {@code sql}, atomically, with lineage to what it read. */
    public WriteResult create(DatasetName name, String sql, List<String> partitionBy, Provenance provenance) {
        requireNew(name);
        Dataset<Row> frame = query(sql);
        return createFrom(name, frame, partitionBy, provenance.withInputs(inputsOf(frame)));
    }

    public void requireNew(DatasetName name) {
        if (datasets.exists(name)) {
            throw GranaryException.alreadyExists("dataset " + name + " already exists",
                    "choose another name, or drop it first with `granary dataset drop " + name + "`");
        }
    }

    /**
     * Creates {@code name} from a frame's rows in one atomic commit (Iceberg's staged create); the
     * provenance should already name the frame's inputs (see {@link #inputsOf}).
     */
    public WriteResult createFrom(DatasetName name, Dataset<Row> frame, List<String> partitionBy, Provenance withInputs) {
        return createFrom(name, frame, partitionBy, Map.of(), withInputs);
    }

    /** As {@link #createFrom(DatasetName, Dataset, List, Provenance)}, the table given {@code properties} too. */
    public WriteResult createFrom(DatasetName name, Dataset<Row> frame, List<String> partitionBy, Map<String, String> properties,
                                  Provenance withInputs) {
        requireNew(name);
        DataFrameWriterV2<Row> writer = frame.writeTo(CatalogSettings.NAME + "." + name).using("iceberg");
        datasetsTableProperties().forEach(writer::tableProperty);
        properties.forEach(writer::tableProperty);
        List<Column> partitions = partitionColumns(partitionBy);
        if (!partitions.isEmpty()) {
            writer.partitionedBy(partitions.get(0), partitions.subList(1, partitions.size()).toArray(new Column[0]));
        }
        commitWith(withInputs, () -> {
            writer.create();
            return null;
        });
        return result(name, withInputs);
    }

    /**
     * Replaces every row of {@code name} (its schema too) with a frame's, in one atomic commit that
     * keeps the dataset's history; creates it if it does not exist yet.
     */
    public WriteResult createOrReplace(DatasetName name, Dataset<Row> frame, Map<String, String> properties, Provenance withInputs) {
        DataFrameWriterV2<Row> writer = frame.writeTo(CatalogSettings.NAME + "." + name).using("iceberg");
        datasetsTableProperties().forEach(writer::tableProperty);
        properties.forEach(writer::tableProperty);
        commitWith(withInputs, () -> {
            writer.createOrReplace();
            return null;
        });
        return result(name, withInputs);
    }

    /** Appends a frame's rows to {@code name} in one commit, with lineage to what it read. */
    public WriteResult append(DatasetName name, Dataset<Row> frame, Provenance withInputs) {
        datasets.load(name);
        commitWith(withInputs, () -> {
            frame.writeTo(CatalogSettings.NAME + "." + name).append();
            return null;
        });
        return result(name, withInputs);
    }

    /** Appends the rows of {@code sql} to {@code name}, with lineage to what it read. */
    public WriteResult append(DatasetName name, String sql, Provenance provenance) {
        datasets.load(name);
        Dataset<Row> frame = query(sql);
        Provenance withInputs = provenance.withInputs(inputsOf(frame));
        commitWith(withInputs, () -> {
            frame.writeTo(CatalogSettings.NAME + "." + name).append();
            return null;
        });
        return result(name, withInputs);
    }

    WriteResult result(DatasetName name, Provenance provenance) {
        Table table = datasets.load(name);
        for (Snapshot snapshot = table.currentSnapshot(); snapshot != null;
             snapshot = snapshot.parentId() == null ? null : table.snapshot(snapshot.parentId())) {
            if (provenance.runId().equals(snapshot.summary().get(Provenance.RUN_ID))) {
                long added = Long.parseLong(snapshot.summary().getOrDefault("added-records", "0"));
                long files = Long.parseLong(snapshot.summary().getOrDefault("added-data-files", "0"));
                long bytes = Long.parseLong(snapshot.summary().getOrDefault("added-files-size", "0"));
                return new WriteResult(name, SnapshotRef.MAIN_BRANCH, snapshot.snapshotId(), added, (int) files, bytes,
                        List.of(), provenance.runId());
            }
        }
        throw new IllegalStateException("the commit of run " + provenance.runId() + " is not in " + name);
    }

    static void commitWith(Provenance provenance, java.util.concurrent.Callable<Void> write) {
        try {
            CommitMetadata.withCommitProperties(provenance.toSummary(), write, Exception.class);
        } catch (GranaryException e) {
            throw e;
        } catch (Exception e) {
            if (e instanceof AnalysisException analysis) {
                throw new GranaryException("cannot write the query's rows: " + analysis.getSimpleMessage(),
                        "check the query's columns match the dataset", e);
            }
            throw new GranaryException("the Spark job failed: " + e.getMessage(), "rerun with --debug for details", e);
        }
    }

    private static Map<String, String> datasetsTableProperties() {
        return Map.of(
                "format-version", "2",
                "write.parquet.compression-codec", "zstd",
                "commit.retry.num-retries", "20");
    }

    @SuppressWarnings("deprecation")
    private static List<Column> partitionColumns(List<String> partitionBy) {
        List<Column> columns = new ArrayList<>();
        for (String text : partitionBy) {
            String field = text.trim();
            Matcher matcher = TRANSFORM.matcher(field);
            if (field.matches("\\w+")) {
                columns.add(functions.col(field));
            } else if (matcher.matches()) {
                Column column = functions.col(matcher.group(3));
                String transform = matcher.group(1).toLowerCase(Locale.ROOT);
                columns.add(switch (transform) {
                    case "year", "years" -> functions.years(column);
                    case "month", "months" -> functions.months(column);
                    case "day", "days" -> functions.days(column);
                    case "hour", "hours" -> functions.hours(column);
                    case "bucket" -> functions.bucket(Integer.parseInt(matcher.group(2) == null ? "0" : matcher.group(2)), column);
                    default -> throw new GranaryException("partition transform '" + transform + "' is not available with --query",
                            "use col, day(ts), hour(ts), month(ts), year(ts) or bucket(N, col)");
                });
            } else {
                throw new GranaryException("cannot read partition field '" + text + "'", "e.g. day(event_ts) or user_id");
            }
        }
        return columns;
    }
}
