package io.granary.cache.stream;

import io.granary.cache.stage.SnapshotFiles;
import io.granary.cache.store.EntryFiles;
import io.granary.common.GranaryException;
import io.granary.packer.Manifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.io.LocalInputFile;

/**
 * The units a stream of a staged snapshot is made of, in the snapshot's order: each row group of
 * each data file of a table (from the footers of the cached files), or each shard of a packed set
 * (from the snapshot's manifest, which counts its samples).
 */
public final class SnapshotUnits {

    private SnapshotUnits() {}

    /** The units of {@code snapshot}, whose files must be in the cache ({@code entries}). */
    public static List<StreamUnit> of(SnapshotFiles snapshot, EntryFiles entries) {
        return snapshot.kind().equals("shards") ? shards(snapshot) : rowGroups(snapshot, entries);
    }

    private static List<StreamUnit> shards(SnapshotFiles snapshot) {
        SnapshotFiles.Generated manifestFile = snapshot.generated().stream().filter(g -> g.name().equals("manifest.json")).findFirst()
                .orElseThrow(() -> new IllegalStateException("the packed set " + snapshot.key() + " has no manifest.json"));
        Manifest manifest = Manifest.parse(manifestFile.content(), snapshot.key());
        List<StreamUnit> units = new ArrayList<>();
        for (Manifest.Shard shard : manifest.shards()) {
            units.add(new StreamUnit(shard.name(), 0, shard.samples()));
        }
        return units;
    }

    private static List<StreamUnit> rowGroups(SnapshotFiles snapshot, EntryFiles entries) {
        List<StreamUnit> units = new ArrayList<>();
        for (SnapshotFiles.Remote file : snapshot.remote()) {
            if (!file.kind().equals("data")) {
                throw new GranaryException(snapshot.key() + " has row-level deletes (" + file.name() + "), which streams do not apply yet",
                        "rewrite the affected files without deletes, or stream a snapshot from before them");
            }
            if (!file.name().endsWith(".parquet")) {
                throw new GranaryException(snapshot.key() + " has a data file that is not Parquet: " + file.name(), "streams read Parquet tables");
            }
            Path cached = entries.path(file.entryId());
            try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(cached))) {
                List<BlockMetaData> rowGroups = reader.getFooter().getBlocks();
                for (int i = 0; i < rowGroups.size(); i++) {
                    units.add(new StreamUnit(file.name(), i, rowGroups.get(i).getRowCount()));
                }
            } catch (IOException e) {
                throw new GranaryException("cannot read the Parquet footer of " + file.name() + " of " + snapshot.key() + " in the cache: "
                        + e.getMessage(), "run `granary cache verify`: a damaged file is dropped and fetched again", e);
            }
        }
        return units;
    }
}
