package io.granary.bench;

import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The point-in-time benchmarks' data: entity (label) rows, and three feature views holding
 * {@code rows} rows in all (user_daily with a 7d ttl, item_daily with 2d, user_long without one),
 * generated as Parquet, created as datasets bench.NAME and registered (with the service "all").
 */
record BenchData(Path entities, Path userDaily, Path itemDaily, Path userLong, long users, long items, RegistryState registry) {

    static BenchData create(Datasets datasets, Path work, String entityName, long entities, long rows, String command) throws Exception {
        long users = Math.max(1, rows / 50);
        long items = Math.max(1, rows / 60);
        Path userDaily = PointInTimeBenchmark.writeFeatures(work.resolve("user_daily.parquet"), "user_id", users, rows / 2, 1);
        Path itemDaily = PointInTimeBenchmark.writeFeatures(work.resolve("item_daily.parquet"), "item_id", items, rows * 3 / 10, 2);
        Path userLong = PointInTimeBenchmark.writeFeatures(work.resolve("user_long.parquet"), "user_id", users, rows / 5, 3);
        Path entityRows = PointInTimeBenchmark.writeEntities(work.resolve(entityName + ".parquet"), entities, users, items);
        for (Path file : List.of(userDaily, itemDaily, userLong, entityRows)) {
            datasets.create(DatasetName.parse("bench." + file.getFileName().toString().replace(".parquet", "")), List.of(file), Optional.empty(),
                    List.of(), WriteOptions.defaults(), Provenance.of(command, List.of()));
        }
        Registry registry = new Registry(work.resolve("registry"));
        Path yaml = work.resolve("features.yaml");
        Files.writeString(yaml, String.join("\n",
                "entities:",
                "  - {name: user, join_key: user_id, value_type: INT64}",
                "  - {name: item, join_key: item_id, value_type: INT64}",
                "feature_views:",
                "  - {name: user_daily, entities: [user], ttl: 7d, source: {dataset: bench.user_daily, timestamp_field: event_ts},",
                "     features: [{name: f_double, dtype: DOUBLE}, {name: f_long, dtype: INT64}]}",
                "  - {name: item_daily, entities: [item], ttl: 2d, source: {dataset: bench.item_daily, timestamp_field: event_ts},",
                "     features: [{name: f_double, dtype: DOUBLE}, {name: f_long, dtype: INT64}]}",
                "  - {name: user_long, entities: [user], ttl: 0, source: {dataset: bench.user_long, timestamp_field: event_ts},",
                "     features: [{name: f_double, dtype: DOUBLE}, {name: f_long, dtype: INT64}]}",
                "feature_services:",
                "  - {name: all, features: [user_daily, item_daily, user_long]}",
                ""));
        Definitions definitions = Definitions.parse(yaml);
        DefinitionChecker.check(definitions, registry.load(), datasets);
        return new BenchData(entityRows, userDaily, itemDaily, userLong, users, items, registry.apply(definitions));
    }

    long bytes() throws java.io.IOException {
        return Files.size(entities) + Files.size(userDaily) + Files.size(itemDaily) + Files.size(userLong);
    }
}
