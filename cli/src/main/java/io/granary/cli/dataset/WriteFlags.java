package io.granary.cli.dataset;

import io.granary.common.GranaryException;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.spark.SparkIngest;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Options shared by the commands that write files into a dataset. */
final class WriteFlags {

    /** Where files are read and written. */
    enum Engine {
        local, spark
    }

    @Option(names = "--evolve", description = "Add columns the dataset lacks (as nullable) and widen types, instead of failing.")
    boolean evolve;

    @Option(names = "--threads", paramLabel = "N", description = "Most writer threads (default: the number of cores).")
    Integer threads;

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "local",
            description = {
                "local (default): read the files in this process, in parallel; the fastest on one machine, and names the line of a bad value.",
                "spark: read them with Spark (spark.master from the config); for s3a://, hdfs:// and directories, or inputs too big for one machine.",
            })
    Engine engine;

    @Option(names = "--format", paramLabel = "FORMAT", description = "csv, jsonl or parquet, for --engine spark inputs without an extension.")
    SparkIngest.Format format;

    WriteOptions options() {
        WriteOptions defaults = WriteOptions.defaults();
        return new WriteOptions(evolve, threads == null ? defaults.threads() : threads);
    }

    boolean onSpark() {
        if (engine == Engine.spark && evolve) {
            throw new GranaryException("--evolve works with the local engine only", "drop --engine spark, or add the columns first");
        }
        if (engine == Engine.local && format != null) {
            throw new GranaryException("--format goes with --engine spark", "the local engine reads the format from the file extension");
        }
        return engine == Engine.spark;
    }

    Optional<SparkIngest.Format> format() {
        return Optional.ofNullable(format);
    }

    /** Local file paths, for the local engine. */
    static List<Path> localPaths(List<String> inputs) {
        for (String input : inputs) {
            if (input.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*") && !input.startsWith("file://")) {
                throw new GranaryException("the local engine reads local files, not " + input,
                        "pass --engine spark to read from " + input.substring(0, input.indexOf(':')) + "://");
            }
        }
        return inputs.stream().map(input -> input.startsWith("file://") ? Path.of(java.net.URI.create(input)) : Path.of(input)).toList();
    }
}
