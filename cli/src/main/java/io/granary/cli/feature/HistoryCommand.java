package io.granary.cli.feature;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteResult;
import io.granary.feature.offline.LocalPointInTimeJoin;
import io.granary.feature.offline.PointInTimeJoin;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.RegistryState;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "history", mixinStandardHelpOptions = true,
        description = {
            "Build point-in-time correct training data: for each entity row (join keys and an event time), each feature's",
            "latest value at or before that time and within its view's ttl; never a value from the future. Runs in this",
            "process when the data fits one machine, on Spark otherwise (--engine); the output dataset records the snapshots it read.",
        })
public final class HistoryCommand extends Subcommand {

    @Option(names = "--entities", required = true, paramLabel = "REF", description = "The entity rows, e.g. demo.clicks or demo.clicks@day1.")
    String entities;

    @ArgGroup(exclusive = true, multiplicity = "1")
    FeatureSelection what;

    @Option(names = "--out", required = true, paramLabel = "NS.NAME", description = "The new dataset to write.")
    String out;

    @Option(names = "--timestamp-field", paramLabel = "COLUMN",
            description = "The entity rows' event time column (default: event_timestamp, or their only timestamp column).")
    String timestampField;

    @Option(names = "--full-names", description = "Name feature columns VIEW__FEATURE.")
    boolean fullNames;

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "auto",
            description = "local (in this process), spark, or auto (default): local unless the rows exceed --local-max-rows "
                    + "or a column type or row-level deletes need Spark.")
    OfflineEngine engine;

    @Option(names = "--local-max-rows", paramLabel = "N", defaultValue = "100000000",
            description = "With --engine auto, the most rows (entity rows and feature rows together) to join in process (default: ${DEFAULT-VALUE}).")
    long localMaxRows;

    @Override
    protected void run() {
        long start = System.nanoTime();
        RegistryState registry = context().registry().load();
        List<FeatureRef> refs = what.resolve(registry);
        DatasetRef entityRef = DatasetRef.parse(entities);
        DatasetName target = DatasetName.parse(out);
        Provenance provenance = Provenance.of("feature history " + what.describe(), List.of());
        LocalPointInTimeJoin local = new LocalPointInTimeJoin(context().datasets(), registry);
        String ran = chooseEngine(local, entityRef, refs, registry);
        WriteResult result = ran.equals("local")
                ? local.history(entityRef, Optional.ofNullable(timestampField), refs, fullNames, target, provenance)
                : new PointInTimeJoin(context().spark(), registry).history(context().datasets(), entityRef,
                        Optional.ofNullable(timestampField), refs, fullNames, target, provenance);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        out().printf("wrote %s: snapshot %d, %s entity rows with %d feature%s, %s (%s rows/s, %s engine)%n", target, result.snapshotId(),
                Formats.count(result.rowsWritten()), refs.size(), refs.size() == 1 ? "" : "s", Formats.seconds(took),
                Formats.rate(result.rowsWritten(), took), ran);
    }

    private String chooseEngine(LocalPointInTimeJoin local, DatasetRef entityRef, List<FeatureRef> refs, RegistryState registry) {
        if (engine != OfflineEngine.auto) {
            return engine.name();
        }
        if (local.unsupported(entityRef, refs).isPresent()) {
            return "spark";
        }
        long rows = totalRows(context().datasets().resolve(entityRef).snapshot());
        for (String view : refs.stream().map(FeatureRef::view).distinct().toList()) {
            rows += totalRows(Optional.ofNullable(context().datasets().load(registry.featureView(view).source().dataset()).currentSnapshot()));
        }
        return rows <= localMaxRows ? "local" : "spark";
    }

    private static long totalRows(Optional<org.apache.iceberg.Snapshot> snapshot) {
        return snapshot.map(s -> Long.parseLong(s.summary().getOrDefault("total-records", "0"))).orElse(0L);
    }
}
