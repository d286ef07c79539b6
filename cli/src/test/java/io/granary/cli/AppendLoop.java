package io.granary.cli;

import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.catalog.CatalogSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A separate writer process for ProcessesIT: appends COUNT one-row files to a dataset. */
public final class AppendLoop {

    private AppendLoop() {}

    public static void main(String[] args) throws Exception {
        Path warehouse = Path.of(args[0]);
        String dataset = args[1];
        int writer = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        Path scratch = Files.createTempDirectory("append-loop");
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(warehouse))) {
            for (int i = 0; i < count; i++) {
                Path file = Files.writeString(scratch.resolve(i + ".csv"), "user_id\n" + (writer * 1000 + i) + "\n");
                datasets.append(DatasetRef.parse(dataset), List.of(file), WriteOptions.defaults(), Provenance.of("append loop", List.of()));
            }
        }
    }
}
