package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.common.Durations;
import io.granary.feature.registry.Entity;
import io.granary.feature.registry.FeatureService;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import io.granary.feature.registry.Versioned;
import java.time.Duration;
import java.util.TreeMap;
import picocli.CommandLine.Command;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered entities, feature views and feature services.")
public final class ListCommand extends Subcommand {

    @Override
    protected void run() {
        RegistryState state = context().registry().load();
        if (state.generation() == 0) {
            out().println("the registry is empty: register definitions with `granary feature apply FILE.yaml`");
            return;
        }
        TextTable table = new TextTable("kind", "name", "version", "applied", "details");
        new TreeMap<>(state.entities()).forEach((name, v) -> {
            Entity entity = v.value();
            table.add("entity", name, v.version(), Formats.time(v.appliedAt()), "join key " + entity.joinKey() + " " + entity.valueType());
        });
        new TreeMap<>(state.featureViews()).forEach((name, v) -> {
            FeatureView view = v.value();
            table.add("feature view", name, v.version(), Formats.time(v.appliedAt()), view.features().size() + " features of "
                    + view.source().dataset() + ", ttl " + (view.ttlSeconds() == 0 ? "none" : Durations.format(Duration.ofSeconds(view.ttlSeconds())))
                    + (view.online() ? ", online" : ""));
        });
        new TreeMap<>(state.featureServices()).forEach((name, v) -> {
            FeatureService service = v.value();
            table.add("feature service", name, v.version(), Formats.time(v.appliedAt()), String.join(", ", service.features()));
        });
        table.print(out());
        out().println("(registry generation " + state.generation() + ")");
    }

    static String version(Versioned<?> versioned) {
        return "v" + versioned.version();
    }
}
