package io.granary.cli.sample;

import io.granary.cli.Subcommand;
import io.granary.cli.output.TextTable;
import io.granary.sample.plan.Plan;
import io.granary.sample.plan.PlannedNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Check a pipeline config and print its DAG: each node, the nodes it reads, its fingerprint, and whether",
            "a run would RUN or SKIP it, and why. Reads only metadata: starts no Spark."})
public final class PlanCommand extends Subcommand {

    @Parameters(paramLabel = "FILE", description = "The pipeline config, e.g. examples/pipelines/ctr.yaml.")
    Path config;

    @Option(names = "--force", split = ",", paramLabel = "NODE", description = "Plan as if NODE (and all below it) were rerun.")
    List<String> force = List.of();

    @Mixin
    PluginDirs plugins;

    @Override
    protected void run() {
        print(out(), context().samplePipelines(plugins.dirs).plan(config, new LinkedHashSet<>(force)));
    }

    static void print(PrintWriter out, Plan plan) {
        out.printf("pipeline %s: template %s, %d nodes, %d to run%n", plan.config().name(), plan.template().id(), plan.nodes().size(),
                plan.toRun());
        TextTable table = new TextTable("node", "component", "reads", "fingerprint", "action", "why");
        for (PlannedNode node : plan.nodes()) {
            table.add(node.id(), node.component().name(), node.upstream().isEmpty() ? "-" : String.join(",", node.upstream()),
                    node.fingerprint().substring(0, 12), node.action(), node.reason());
        }
        table.print(out);
    }
}
