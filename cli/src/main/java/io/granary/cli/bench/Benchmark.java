package io.granary.cli.bench;

import io.granary.cli.Context;
import java.util.List;

/**
 * A whole-process benchmark run as `granary bench NAME`, comparing Granary with a real peer in
 * the same run. Implementations live in the benchmarks module and are found with ServiceLoader,
 * so the CLI does not depend on it.
 */
public interface Benchmark {

    String name();

    String description();

    void run(Context context, List<String> args) throws Exception;
}
