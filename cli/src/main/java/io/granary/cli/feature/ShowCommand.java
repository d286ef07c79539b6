package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.common.Durations;
import io.granary.common.GranaryException;
import io.granary.feature.registry.Entity;
import io.granary.feature.registry.Feature;
import io.granary.feature.registry.FeatureService;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.Kind;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.Versioned;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Show an entity, feature view or feature service: its current definition (or NAME@VERSION) and its versions.")
public final class ShowCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NAME[@VERSION]")
    String name;

    @Override
    protected void run() {
        String bare = name.contains("@") ? name.substring(0, name.indexOf('@')) : name;
        Registry registry = context().registry();
        for (Kind kind : Kind.values()) {
            List<Versioned<?>> history = registry.history(kind, bare);
            if (history.isEmpty()) {
                continue;
            }
            Versioned<?> shown = history.get(history.size() - 1);
            if (name.contains("@")) {
                String version = name.substring(name.indexOf('@') + 1).replaceFirst("^v", "");
                shown = history.stream().filter(v -> String.valueOf(v.version()).equals(version)).findFirst()
                        .orElseThrow(() -> GranaryException.notFound("no version " + version + " of " + kind.label() + " " + bare,
                                "versions: " + history.stream().map(v -> "v" + v.version()).toList()));
            }
            print(out(), kind, bare, shown, history);
            return;
        }
        throw GranaryException.notFound("nothing named '" + bare + "' in the registry", "list what is registered with `granary feature list`");
    }

    private static void print(PrintWriter out, Kind kind, String name, Versioned<?> shown, List<Versioned<?>> history) {
        out.println(kind.label() + " " + name + " v" + shown.version() + " (of " + history.size() + ")");
        Object value = shown.value();
        if (value instanceof Entity entity) {
            out.println("join key    " + entity.joinKey() + " (" + entity.valueType() + ")");
            describe(out, entity.description());
        } else if (value instanceof FeatureView view) {
            out.println("entities    " + String.join(", ", view.entities()));
            out.println("source      " + view.source().dataset() + ", event time " + view.source().timestampField()
                    + view.source().createdTimestamp().map(c -> ", created time " + c).orElse(""));
            out.println("ttl         " + (view.ttlSeconds() == 0 ? "none (rows never expire)" : Durations.format(Duration.ofSeconds(view.ttlSeconds()))));
            out.println("online      " + view.online());
            describe(out, view.description());
            TextTable features = new TextTable("feature", "dtype");
            for (Feature feature : view.features()) {
                features.add(feature.name(), feature.dtype());
            }
            out.println();
            features.print(out);
        } else if (value instanceof FeatureService service) {
            out.println("features    " + String.join(", ", service.features()));
            describe(out, service.description());
        }
        out.println();
        out.println("versions: " + String.join(", ", history.stream().map(v -> "v" + v.version() + " (" + Formats.time(v.appliedAt()) + ")").toList()));
    }

    private static void describe(PrintWriter out, String description) {
        if (!description.isEmpty()) {
            out.println("about       " + description);
        }
    }
}
