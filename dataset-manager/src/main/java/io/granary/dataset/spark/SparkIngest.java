package io.granary.dataset.spark;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.SchemaFile;
import io.granary.dataset.WriteResult;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.ingest.Promotion;
import io.granary.dataset.ingest.TypeNames;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.Table;
import org.apache.iceberg.spark.SparkSchemaUtil;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * File ingest on Spark ({@code --engine spark}): for inputs on HDFS or S3, or too big for one
 * machine. Columns are matched to the dataset by name, as the local engine does (Spark alone
 * matches CSV columns by position); the commit records the same provenance. The local engine is
 * faster on one machine and names the line of a bad value; this one scales out.
 */
public final class SparkIngest {

    /** The input formats, by file extension or --format. */
    public enum Format {
        CSV, JSONL, PARQUET
    }

    private final SparkSession spark;
    private final Datasets datasets;
    private final SparkQueries queries;

    public SparkIngest(SparkSession spark, Datasets datasets) {
        this.spark = spark;
        this.datasets = datasets;
        this.queries = new SparkQueries(spark, datasets);
    }

    public WriteResult create(DatasetName name, List<String> paths, Optional<Format> format, Optional<SchemaFile> declared,
                              List<String> partitionBy, Provenance provenance) {
        queries.requireNew(name);
        Format chosen = formatOf(paths, format);
        Dataset<Row> frame = declared.isPresent() ? shaped(paths, chosen, declared.get().schema()) : inferred(paths, chosen);
        List<String> partitions = partitionBy.isEmpty() ? declared.map(SchemaFile::partitionBy).orElse(List.of()) : partitionBy;
        return queries.createFrom(name, frame, partitions, provenance.withInputs(uris(paths)));
    }

    public WriteResult append(DatasetRef target, List<String> paths, Optional<Format> format, Provenance provenance) {
        return write(target, paths, format, provenance, (writer, frame) -> writer.append());
    }

    public WriteResult overwrite(DatasetRef target, List<String> paths, boolean onlyPartitions, Optional<Format> format,
                                 Provenance provenance) {
        return write(target, paths, format, provenance, (writer, frame) -> {
            if (onlyPartitions) {
                writer.overwritePartitions();
            } else {
                writer.overwrite(functions.lit(true));
            }
        });
    }

    @FunctionalInterface
    private interface Commit {
        void run(org.apache.spark.sql.DataFrameWriterV2<Row> writer, Dataset<Row> frame) throws Exception;
    }

    private WriteResult write(DatasetRef target, List<String> paths, Optional<Format> format, Provenance provenance, Commit commit) {
        Table table = datasets.load(target.dataset());
        String branch = Datasets.branchOf(target, table);
        Dataset<Row> frame = shaped(paths, formatOf(paths, format), table.schema());
        Provenance withInputs = provenance.withInputs(uris(paths));
        String identifier = CatalogSettings.NAME + "." + target.dataset()
                + (branch.equals(SnapshotRef.MAIN_BRANCH) ? "" : ".branch_" + branch);
        SparkQueries.commitWith(withInputs, () -> {
            commit.run(frame.writeTo(identifier), frame);
            return null;
        });
        table.refresh();
        long snapshotId = Datasets.snapshotOfRun(table, branch, withInputs.runId());
        Map<String, String> summary = table.snapshot(snapshotId).summary();
        return new WriteResult(target.dataset(), branch, snapshotId, number(summary, "added-records"),
                (int) number(summary, "added-data-files"), number(summary, "added-files-size"), List.of(), withInputs.runId());
    }

    private static long number(Map<String, String> summary, String key) {
        return Long.parseLong(summary.getOrDefault(key, "0"));
    }

    /** The files read with their own types (CSV and JSON inferred by Spark), for a new dataset. */
    private Dataset<Row> inferred(List<String> paths, Format format) {
        return guard(() -> switch (format) {
            case CSV -> csvReader().option("inferSchema", "true").csv(paths.toArray(String[]::new));
            case JSONL -> jsonReader().json(paths.toArray(String[]::new));
            case PARQUET -> spark.read().parquet(paths.toArray(String[]::new));
        });
    }

    /**
     * The files read as rows of {@code target}: columns matched by name, columns the files lack
     * null, a column the dataset lacks or a type it cannot hold an error.
     */
    private Dataset<Row> shaped(List<String> paths, Format format, Schema target) {
        Dataset<Row> frame = guard(() -> switch (format) {
            case CSV -> csvReader().schema(csvSchema(paths, target)).csv(paths.toArray(String[]::new));
            case JSONL -> {
                requireKnownColumns(jsonReader().json(paths.toArray(String[]::new)).schema(), target, paths, false);
                yield jsonReader().schema(SparkSchemaUtil.convert(target)).json(paths.toArray(String[]::new));
            }
            case PARQUET -> {
                Dataset<Row> parquet = spark.read().parquet(paths.toArray(String[]::new));
                requireKnownColumns(parquet.schema(), target, paths, true);
                yield parquet;
            }
        });
        Set<String> present = new HashSet<>(List.of(frame.columns()));
        List<Column> columns = new ArrayList<>();
        for (Types.NestedField field : target.columns()) {
            DataType type = SparkSchemaUtil.convert(field.type());
            Column column = present.contains(field.name()) ? functions.col("`" + field.name() + "`") : functions.lit(null);
            columns.add(column.cast(type).as(field.name()));
        }
        return frame.select(columns.toArray(Column[]::new));
    }

    private DataFrameReader csvReader() {
        return spark.read().option("header", "true").option("mode", "FAILFAST");
    }

    private DataFrameReader jsonReader() {
        return spark.read().option("mode", "FAILFAST");
    }

    /** CSV columns in the order of the header, typed as the dataset's columns of those names. */
    private StructType csvSchema(List<String> paths, Schema target) {
        List<String> header = csvHeader(paths.get(0));
        List<StructField> fields = new ArrayList<>();
        for (String name : header) {
            Types.NestedField field = target.findField(name);
            if (field == null) {
                throw unknownColumn(paths.get(0), name, target);
            }
            fields.add(new StructField(name, SparkSchemaUtil.convert(field.type()), true, Metadata.empty()));
        }
        return new StructType(fields.toArray(StructField[]::new));
    }

    private void requireKnownColumns(StructType fileSchema, Schema target, List<String> paths, boolean checkTypes) {
        Types.StructType fileTypes = SparkSchemaUtil.convert(fileSchema).asStruct();
        for (Types.NestedField column : fileTypes.fields()) {
            Types.NestedField field = target.findField(column.name());
            if (field == null) {
                throw unknownColumn(String.join(", ", paths), column.name(), target);
            }
            if (checkTypes && !Promotion.canStore(column.type(), field.type())) {
                throw new GranaryException("column '" + column.name() + "' is " + TypeNames.describe(field.type())
                        + " in the dataset but " + TypeNames.describe(column.type()) + " in " + String.join(", ", paths),
                        "convert the column in the files");
            }
        }
    }

    private static GranaryException unknownColumn(String where, String column, Schema target) {
        return new GranaryException("column '" + column + "' of " + where + " is not in the dataset (its columns: "
                + String.join(", ", target.columns().stream().map(Types.NestedField::name).toList()) + ")",
                "rename the column (the local engine, without --engine spark, can also --evolve the dataset)");
    }

    /** The header line of a CSV file, or of the first CSV file in a directory, on any Hadoop file system. */
    private List<String> csvHeader(String location) {
        try {
            Path path = new Path(location);
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus status = fs.getFileStatus(path);
            if (status.isDirectory()) {
                path = null;
                for (FileStatus child : fs.listStatus(status.getPath())) {
                    String name = child.getPath().getName();
                    if (child.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
                        path = child.getPath();
                        break;
                    }
                }
                if (path == null) {
                    throw new GranaryException("no files in " + location, "give a directory of CSV files, or the files");
                }
            }
            try (InputStream raw = fs.open(path);
                 InputStream in = path.getName().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
                 BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line = reader.readLine();
                if (line == null || line.isBlank()) {
                    throw new GranaryException("input file has no header line: " + path, "the first line names the columns");
                }
                List<String> names = new ArrayList<>();
                for (String name : line.replace("\uFEFF", "").split(",", -1)) {
                    names.add(name.trim().replaceAll("^\"|\"$", ""));
                }
                return names;
            }
        } catch (java.io.FileNotFoundException e) {
            throw GranaryException.notFound("input not found: " + location, "check the path or URI");
        } catch (IOException e) {
            throw new GranaryException("cannot read " + location + ": " + e.getMessage(), "check the path and its file system settings", e);
        }
    }

    private static Format formatOf(List<String> paths, Optional<Format> given) {
        if (paths.isEmpty()) {
            throw new GranaryException("no input files given", "name one or more files or directories");
        }
        if (given.isPresent()) {
            return given.get();
        }
        Format format = null;
        for (String path : paths) {
            String name = path.toLowerCase(Locale.ROOT).replaceAll("\\.gz$", "");
            Format of = name.endsWith(".csv") ? Format.CSV
                    : name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson") ? Format.JSONL
                    : name.endsWith(".parquet") || name.endsWith(".pq") ? Format.PARQUET : null;
            if (of == null || (format != null && of != format)) {
                throw new GranaryException("cannot tell the format of " + path + (format != null && of != null ? " (inputs mix formats)" : ""),
                        "with --engine spark all inputs share one format: name files .csv, .jsonl or .parquet, or pass --format");
            }
            format = of;
        }
        return format;
    }

    private static List<String> uris(List<String> paths) {
        List<String> uris = new ArrayList<>();
        for (String path : paths) {
            URI uri = URI.create(path.replace(" ", "%20"));
            uris.add(uri.getScheme() != null ? path : java.nio.file.Path.of(path).toAbsolutePath().normalize().toUri().toString());
        }
        return uris;
    }

    @FunctionalInterface
    private interface Read {
        Dataset<Row> get() throws Exception;
    }

    private static Dataset<Row> guard(Read read) {
        try {
            return read.get();
        } catch (GranaryException e) {
            throw e;
        } catch (Exception e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (message.contains("PATH_NOT_FOUND") || message.contains("Path does not exist")) {
                throw GranaryException.notFound("input not found: " + message.replaceAll("\\s+", " "), "check the paths or URIs");
            }
            throw SparkQueries.queryError(e);
        }
    }
}
