package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.cli.TimeArgs;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.OnlineStore;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "materialize-incremental", mixinStandardHelpOptions = true,
        description = {
            "Materialize only what each view's source dataset gained since its last run (the snapshots appended since).",
            "A view's first run reads its ttl before --end. A killed run, rerun, carries on after its last finished snapshot.",
        })
public final class MaterializeIncrementalCommand extends Subcommand {

    @Option(names = "--end", defaultValue = "now", paramLabel = "TIME", description = "Ignore rows with event time at or after this (default: now).")
    String end;

    @Option(names = "--views", split = ",", paramLabel = "VIEW", description = "Only these feature views (default: every online view).")
    List<String> views = List.of();

    @Override
    protected void run() {
        try (OnlineStore store = context().config().featureStore().onlineStore().openWriter()) {
            Materializer materializer = new Materializer(context().datasets(), context().registry().load(), store);
            MaterializeOutput.print(out(), materializer.materializeIncremental(views, TimeArgs.parse(end, "--end")));
        }
    }
}
