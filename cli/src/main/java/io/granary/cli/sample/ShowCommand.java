package io.granary.cli.sample;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.sample.run.NodeRecord;
import io.granary.sample.run.RunRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show a run: per node its status, why it ran or was skipped, rows, time, output snapshot, and the values it computed.")
public final class ShowCommand extends Subcommand {

    @Parameters(paramLabel = "RUN", description = "A run id, or enough of its start to be unique (see `granary sample runs`).")
    String run;

    @Override
    protected void run() {
        RunRecord record = context().samplePipelines(List.of()).history().find(run);
        out().printf("run %s of %s (%s), config %s%n", record.runId(), record.pipeline(), record.template(), record.config());
        out().printf("started %s, %s%s%n", Formats.time(Instant.ofEpochMilli(record.startedMillis())), RunsCommand.status(record),
                record.error().isEmpty() ? "" : ": " + record.error());
        TextTable table = new TextTable("node", "component", "status", "engine", "attempts", "rows", "took", "output", "why").alignRight(4, 5, 6);
        for (NodeRecord node : record.nodes()) {
            table.add(node.id(), node.component(), node.status(), node.engine(), node.attempts(), Formats.count(node.rows()),
                    node.millis() == 0 ? "" : String.format(java.util.Locale.ROOT, "%.1f s", node.millis() / 1000.0),
                    String.join(", ", node.outputs()), node.error().isEmpty() ? node.reason() : node.error());
        }
        table.print(out());
        for (NodeRecord node : record.nodes()) {
            if (!node.values().isEmpty()) {
                out().println();
                out().println("values of " + node.id() + ":");
                for (Map.Entry<String, Object> value : new java.util.TreeMap<>(node.values()).entrySet()) {
                    out().printf("  %-32s %s%n", value.getKey(), value.getValue());
                }
            }
        }
    }
}
