package io.granary.cli.sample;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.sample.run.RunRecord;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "runs", mixinStandardHelpOptions = true, description = "List the runs of a pipeline (or of every pipeline), newest last.")
public final class RunsCommand extends Subcommand {

    @Parameters(paramLabel = "PIPELINE", arity = "0..1", description = "The pipeline's name (default: all).")
    String pipeline;

    @Override
    protected void run() {
        List<RunRecord> runs = context().samplePipelines(List.of()).history().runs(Optional.ofNullable(pipeline));
        if (runs.isEmpty()) {
            out().println("no runs" + (pipeline == null ? "" : " of " + pipeline) + " yet (granary sample run FILE)");
            return;
        }
        TextTable table = new TextTable("run", "pipeline", "template", "started", "took", "status", "ran", "incremental", "skipped")
                .alignRight(6, 7, 8);
        for (RunRecord run : runs) {
            long ran = run.nodes().stream().filter(n -> n.action().equals("RUN")).count();
            long incremental = run.nodes().stream().filter(n -> n.action().equals("INCREMENTAL") && !n.status().equals("skipped")).count();
            table.add(run.runId().substring(0, 8), run.pipeline(), run.template(), Formats.time(Instant.ofEpochMilli(run.startedMillis())),
                    run.finishedMillis() == 0 ? "" : String.format(java.util.Locale.ROOT, "%.1f s", (run.finishedMillis() - run.startedMillis()) / 1000.0),
                    status(run), ran, incremental, run.nodes().size() - ran - incremental);
        }
        table.print(out());
    }

    /** A run recorded as running whose process is gone was killed (or lost its machine). */
    static String status(RunRecord run) {
        if (run.status().equals(RunRecord.RUNNING) && ProcessHandle.of(run.pid()).map(p -> !p.isAlive()).orElse(true)) {
            return "interrupted";
        }
        return run.status();
    }
}
