package io.granary.cli.dataset;

import io.granary.dataset.WriteOptions;
import picocli.CommandLine.Option;

/** Options shared by the commands that write files into a dataset. */
final class WriteFlags {

    @Option(names = "--evolve", description = "Add columns the dataset lacks (as nullable) and widen types, instead of failing.")
    boolean evolve;

    @Option(names = "--threads", paramLabel = "N", description = "Most writer threads (default: the number of cores).")
    Integer threads;

    WriteOptions options() {
        WriteOptions defaults = WriteOptions.defaults();
        return new WriteOptions(evolve, threads == null ? defaults.threads() : threads);
    }
}
