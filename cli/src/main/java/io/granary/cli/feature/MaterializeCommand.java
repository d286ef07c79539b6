package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.cli.TimeArgs;
import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.OnlineStore;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "materialize", mixinStandardHelpOptions = true,
        description = {
            "Write the latest value of every entity with event time in [--start, --end) into the online store.",
            "An older row never replaces a newer one already stored. Servers keep serving while it runs.",
        })
public final class MaterializeCommand extends Subcommand {

    @Option(names = "--start", required = true, paramLabel = "TIME", description = "2026-11-28T00:00:00Z, 2026-11-28, now-7d, ...")
    String start;

    @Option(names = "--end", required = true, paramLabel = "TIME", description = "Exclusive end; e.g. now.")
    String end;

    @Option(names = "--views", split = ",", paramLabel = "VIEW", description = "Only these feature views (default: every online view).")
    List<String> views = List.of();

    @Override
    protected void run() {
        try (OnlineStore store = context().config().featureStore().onlineStore().openWriter()) {
            Materializer materializer = new Materializer(context().datasets(), context().registry().load(), store);
            MaterializeOutput.print(out(), materializer.materialize(views, TimeArgs.parse(start, "--start"), TimeArgs.parse(end, "--end")));
        }
    }
}
