package io.granary.cli.sample;

import io.granary.cli.Subcommand;
import io.granary.common.Durations;
import io.granary.sample.component.Engine;
import io.granary.sample.run.Executor;
import io.granary.sample.run.NodeRecord;
import io.granary.sample.run.RunRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a pipeline config: every node whose output is not committed yet, upstream first, independent nodes at once,",
            "each retried on failure. A rerun skips what is unchanged; a failed or killed run, rerun, redoes only what did not commit."})
public final class RunCommand extends Subcommand {

    @Parameters(paramLabel = "FILE", description = "The pipeline config, e.g. examples/pipelines/ctr.yaml.")
    Path config;

    @Option(names = "--force", split = ",", paramLabel = "NODE", description = "Rerun NODE and all below it, even if unchanged.")
    List<String> force = List.of();

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "auto",
            description = "auto (default): in this process where a node can and its data is small, else Spark; spark; local.")
    Engine engine;

    @Option(names = "--local-max-rows", paramLabel = "N", defaultValue = "100000000",
            description = "With --engine auto, the most rows a node processes in this process (default: ${DEFAULT-VALUE}).")
    long localMaxRows;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "2", description = "Independent nodes run at once (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--wait", paramLabel = "DURATION", description = "If another run of the pipeline is under way, wait up to this long (e.g. 10m).")
    String waitFor;

    @Mixin
    PluginDirs plugins;

    @Override
    protected void run() {
        Duration wait = waitFor == null ? Duration.ZERO : Durations.parse(waitFor, "--wait");
        RunRecord run = context().samplePipelines(plugins.dirs).run(config, new LinkedHashSet<>(force),
                new Executor.Options(engine, localMaxRows, parallel, wait), line -> {
                    out().println(line);
                    out().flush();
                });
        for (NodeRecord node : run.nodes()) {
            if (node.published()) {
                node.outputs().forEach(output -> out().println((node.status().equals("skipped") ? "unchanged " : "wrote ") + output));
            }
        }
    }
}
