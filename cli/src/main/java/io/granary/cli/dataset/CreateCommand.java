package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Provenance;
import io.granary.dataset.SchemaFile;
import io.granary.dataset.WriteResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = {
            "Create a dataset from files (schema inferred from every value), a schema file, or a Spark SQL query.",
            "Files are CSV (header line), JSON Lines or Parquet; .csv.gz and .jsonl.gz too.",
        })
public final class CreateCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NS.NAME", description = "The new dataset's name.")
    String name;

    @Option(names = "--from", paramLabel = "FILE", split = ",", description = "Input file(s); repeat or separate with commas.")
    List<String> from = List.of();

    @Option(names = "--schema", paramLabel = "FILE.yaml", description = "Declared columns (and partition_by) instead of inference.")
    Path schema;

    @Option(names = "--query", paramLabel = "SQL", description = "Make the dataset from a Spark SQL query over other datasets.")
    String query;

    @Option(names = "--partition-by", paramLabel = "FIELD", split = ",",
            description = "Partition fields: col, day(ts), hour(ts), month(ts), year(ts), bucket(16, col), truncate(4, col).")
    List<String> partitionBy = List.of();

    @Mixin
    WriteFlags flags;

    @Override
    protected void run() {
        DatasetName dataset = DatasetName.parse(name);
        long start = System.nanoTime();
        WriteResult result;
        if (query != null) {
            if (!from.isEmpty() || schema != null) {
                throw new GranaryException("--query cannot be combined with --from or --schema",
                        "the query's columns are the dataset's schema");
            }
            result = context().queries().create(dataset, query, partitionBy,
                    Provenance.of("dataset create --query " + query, List.of()));
        } else if (flags.onSpark()) {
            result = context().sparkIngest().create(dataset, from, flags.format(), Optional.ofNullable(schema).map(SchemaFile::parse),
                    partitionBy, Provenance.of("dataset create --engine spark", List.of()));
        } else {
            result = context().datasets().create(dataset, WriteFlags.localPaths(from), Optional.ofNullable(schema).map(SchemaFile::parse),
                    partitionBy, flags.options(), Provenance.of("dataset create", List.of()));
        }
        WriteOutput.print(out(), "created", result, Duration.ofNanos(System.nanoTime() - start));
    }
}
