package io.granary.cli;

import io.granary.cli.bench.Benchmark;
import io.granary.common.GranaryException;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {
            "Run a benchmark against its real peer in the same run (without NAME: list them).",
            "Options after NAME go to the benchmark, e.g. granary bench ingest --rows 1000000.",
        })
public final class BenchCommand extends Subcommand {

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME")
    String name;

    /** The benchmark's own options (e.g. --rows 1000000), passed through. */
    @Unmatched
    List<String> args = new java.util.ArrayList<>();

    @Override
    protected void run() throws Exception {
        TreeMap<String, Benchmark> benchmarks = new TreeMap<>();
        ServiceLoader.load(Benchmark.class).forEach(b -> benchmarks.put(b.name(), b));
        if (name == null) {
            if (benchmarks.isEmpty()) {
                out().println("no benchmarks on the class path: run through ./granary, which builds benchmarks/ too");
            }
            benchmarks.values().forEach(b -> out().printf("%-10s %s%n", b.name(), b.description()));
            return;
        }
        Benchmark benchmark = benchmarks.get(name);
        if (benchmark == null) {
            throw GranaryException.notFound("unknown benchmark '" + name + "'",
                    benchmarks.isEmpty() ? "no benchmarks on the class path: run through ./granary, which builds them"
                            : "benchmarks: " + String.join(", ", benchmarks.keySet()));
        }
        benchmark.run(context(), args);
    }
}
