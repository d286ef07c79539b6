package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.cli.TimeArgs;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.common.GranaryException;
import io.granary.feature.materialize.OnlineVerifier;
import io.granary.feature.offline.LocalPointInTimeJoin;
import io.granary.feature.offline.PointInTimeJoin;
import io.granary.feature.offline.PointInTimeValues;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.registry.RegistryState;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "verify-online", mixinStandardHelpOptions = true,
        description = {
            "Prove the online store serves what training saw: for each online view's entities (a sample, or all), compare",
            "what a Feast client gets from the store at the materialization's end time with the point-in-time answer an offline",
            "engine computes at that time from the snapshot the store was materialized from. Prints every mismatch (entity,",
            "view, feature, online value, offline value) and a summary; exits 1 if there is any.",
        })
public final class VerifyOnlineCommand extends Subcommand {

    @Option(names = "--views", split = ",", paramLabel = "VIEW", description = "Only these feature views (default: every online view).")
    List<String> views = List.of();

    static final class Selection {
        @Option(names = "--sample", paramLabel = "N", description = "Check N entities of each view, the same ones every run (default: 1000).")
        Integer sample;

        @Option(names = "--all", description = "Check every entity of each view.")
        boolean all;
    }

    @ArgGroup(exclusive = true)
    Selection selection;

    @Option(names = "--at", paramLabel = "TIME",
            description = "Compare at this time (default: just before each view's materialization end, the last instant it read).")
    String at;

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "auto",
            description = "The offline engine: local (in this process), spark, or auto (default): local unless a view needs Spark.")
    OfflineEngine engine;

    @Override
    protected void run() {
        long start = System.nanoTime();
        OptionalInt sample = selection != null && selection.all ? OptionalInt.empty()
                : OptionalInt.of(selection == null || selection.sample == null ? 1000 : selection.sample);
        if (sample.isPresent() && sample.getAsInt() < 1) {
            throw new GranaryException("--sample " + sample.getAsInt() + " checks nothing", "give --sample 1 or more, or --all");
        }
        RegistryState registry = context().registry().load();
        LocalPointInTimeJoin local = new LocalPointInTimeJoin(context().datasets(), registry);
        List<OnlineVerifier.ViewCheck> checks;
        try (OnlineStore store = context().config().featureStore().onlineStore().openReader()) {
            OnlineVerifier verifier = new OnlineVerifier(context().datasets(), registry, store, (view, snapshot) -> {
                boolean spark = engine == OfflineEngine.spark || (engine == OfflineEngine.auto && local.unsupportedAt(view, snapshot).isPresent());
                PointInTimeValues chosen = spark ? new PointInTimeJoin(context().spark(), registry) : local;
                return chosen;
            });
            checks = verifier.verify(views, sample, Optional.ofNullable(at).map(text -> TimeArgs.parse(text, "--at")));
        }
        long mismatches = 0;
        for (OnlineVerifier.ViewCheck check : checks) {
            if (check.mismatches().isEmpty()) {
                continue;
            }
            TextTable table = new TextTable("view", "entity", "feature", "online", "offline");
            for (OnlineVerifier.Mismatch mismatch : check.mismatches()) {
                String online = mismatch.onlineStatus() == feast.proto.serving.ServingAPIProto.FieldStatus.PRESENT
                        ? Formats.featureValue(mismatch.online()) : mismatch.onlineStatus().name();
                table.add(mismatch.view(), mismatch.entity(), mismatch.feature(), online, Formats.featureValue(mismatch.offline()));
            }
            table.print(out());
            out().println();
            mismatches += check.mismatched();
        }
        TextTable summary = new TextTable("view", "at", "source snapshot", "entities", "online rows", "offline values", "mismatched")
                .alignRight(3, 4, 5, 6);
        for (OnlineVerifier.ViewCheck check : checks) {
            summary.add(check.view(), check.at().toString(), check.sourceSnapshot() < 0 ? "(empty)" : check.sourceSnapshot(),
                    Formats.count(check.entities()), Formats.count(check.online()), Formats.count(check.offline()), Formats.count(check.mismatched()));
        }
        summary.print(out());
        long entities = checks.stream().mapToLong(OnlineVerifier.ViewCheck::entities).sum();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        if (mismatches > 0) {
            out().flush();
            throw new GranaryException(Formats.count(mismatches) + " of " + Formats.count(entities)
                    + " entities checked are served a value other than the training data's",
                    "materialize the views again (`granary feature materialize-incremental`); if it persists, something writes the "
                            + "online store or the source behind Granary's back");
        }
        out().printf("the online store serves what training saw: %s entities of %d view%s checked, no mismatch (%s)%n",
                Formats.count(entities), checks.size(), checks.size() == 1 ? "" : "s", Formats.seconds(took));
    }
}
