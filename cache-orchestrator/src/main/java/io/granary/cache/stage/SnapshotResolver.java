package io.granary.cache.stage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granary.cache.tier.Tiers;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.ResolvedRef;
import io.granary.packer.Manifest;
import io.granary.packer.ShardSet;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.SchemaParser;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;

/**
 * Turns a dataset ref into the files of its snapshot, from the catalog's metadata alone: a
 * table's data and delete files; a packed set's shards, index parts and manifest as of the
 * snapshot (the shards whose index parts the snapshot lists).
 */
public final class SnapshotResolver {

    public static final String TABLE_MANIFEST = "_manifest.json";
    static final String VIEW_FORMAT = "granary-cache-view";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Datasets datasets;
    private final Tiers tiers;

    public SnapshotResolver(Datasets datasets, Tiers tiers) {
        this.datasets = datasets;
        this.tiers = tiers;
    }

    public SnapshotFiles resolve(DatasetRef ref) {
        ResolvedRef resolved = datasets.resolve(ref);
        Table table = resolved.table();
        Snapshot snapshot = resolved.snapshot().orElseThrow(() -> new GranaryException(
                "dataset " + ref + " has no snapshot yet: there is nothing to stage", "write data into it first"));
        // by location: scan planning reads manifests in parallel, and the same snapshot must give the same view manifest
        Map<String, ContentFile<?>> byPath = new java.util.TreeMap<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(snapshot.snapshotId()).planFiles()) {
            for (FileScanTask task : tasks) {
                byPath.putIfAbsent(task.file().location(), task.file());
                for (DeleteFile delete : task.deletes()) {
                    byPath.putIfAbsent(delete.location(), delete);
                }
            }
        } catch (IOException e) {
            throw new GranaryException("cannot list the files of " + ref + ": " + e.getMessage(), "check that its warehouse is reachable", e);
        }
        List<ContentFile<?>> files = new ArrayList<>(byPath.values());
        String dataset = ref.dataset().toString();
        Optional<String> shardLocation = ShardSet.locationOf(table);
        if (shardLocation.isPresent()) {
            return shardSet(dataset, snapshot, shardLocation.get(), files);
        }
        return table(dataset, table, snapshot, files);
    }

    private SnapshotFiles table(String dataset, Table table, Snapshot snapshot, List<ContentFile<?>> files) {
        String root = Tiers.normalize(table.location()).toString();
        List<SnapshotFiles.Remote> remote = new ArrayList<>();
        Set<String> names = new HashSet<>();
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("format", VIEW_FORMAT);
        manifest.put("dataset", dataset);
        manifest.put("snapshot_id", snapshot.snapshotId());
        manifest.put("committed_at", java.time.Instant.ofEpochMilli(snapshot.timestampMillis()).toString());
        ArrayNode listed = manifest.putArray("files");
        long rows = 0;
        for (ContentFile<?> file : files) {
            String location = Tiers.normalize(file.location()).toString();
            String name = location.startsWith(root + "/") ? location.substring(root.length() + 1)
                    : "external/" + location.substring(location.lastIndexOf('/') + 1);
            if (!names.add(name)) {
                name = "external/" + SnapshotFiles.sha256Hex(location.getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 12) + "-"
                        + location.substring(location.lastIndexOf('/') + 1);
                names.add(name);
            }
            String kind = switch (file.content()) {
                case DATA -> "data";
                case POSITION_DELETES -> "position_deletes";
                case EQUALITY_DELETES -> "equality_deletes";
                default -> file.content().name().toLowerCase(java.util.Locale.ROOT);
            };
            remote.add(new SnapshotFiles.Remote(name, file.location(), file.fileSizeInBytes(), null, kind, file.recordCount()));
            ObjectNode entry = listed.addObject();
            entry.put("path", name);
            entry.put("kind", kind);
            entry.put("format", file.format().name().toLowerCase(java.util.Locale.ROOT));
            entry.put("rows", file.recordCount());
            entry.put("bytes", file.fileSizeInBytes());
            if (file.content() == FileContent.DATA) {
                rows += file.recordCount();
            }
        }
        manifest.put("data_rows", rows);
        try {
            manifest.set("schema", JSON.readTree(SchemaParser.toJson(table.schemas().get(snapshot.schemaId() == null ? table.schema().schemaId() : snapshot.schemaId()))));
            byte[] content = JSON.writeValueAsBytes(manifest);
            return new SnapshotFiles(dataset, snapshot.snapshotId(), "table", remote,
                    List.of(new SnapshotFiles.Generated(TABLE_MANIFEST, content, "manifest")));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a view manifest", e);
        }
    }

    private SnapshotFiles shardSet(String dataset, Snapshot snapshot, String location, List<ContentFile<?>> indexParts) {
        URI manifestUri = tiers.locate(location + "/" + Manifest.FILE_NAME);
        Manifest manifest;
        try (InputStream in = tiers.tierFor(manifestUri).open(manifestUri)) {
            manifest = Manifest.parse(in.readAllBytes(), manifestUri.toString());
        } catch (IOException e) {
            throw TierErrors.unreadable(manifestUri, e);
        }
        String root = Tiers.normalize(location).toString();
        Map<String, ContentFile<?>> partsByName = new LinkedHashMap<>();
        for (ContentFile<?> part : indexParts) {
            String partLocation = Tiers.normalize(part.location()).toString();
            if (partLocation.startsWith(root + "/")) {
                partsByName.put(partLocation.substring(root.length() + 1), part);
            }
        }
        List<Manifest.Shard> kept = new ArrayList<>();
        List<SnapshotFiles.Remote> remote = new ArrayList<>();
        for (Manifest.Shard shard : manifest.shards()) {
            ContentFile<?> part = partsByName.get(shard.index());
            if (part == null) {
                continue;
            }
            kept.add(shard);
            remote.add(new SnapshotFiles.Remote(shard.name(), location + "/" + shard.name(), shard.bytes(), shard.sha256(), "shard", shard.samples()));
            remote.add(new SnapshotFiles.Remote(shard.index(), part.location(), part.fileSizeInBytes(), null, "index", part.recordCount()));
        }
        if (kept.size() != partsByName.size()) {
            throw new GranaryException("the shard set of " + dataset + " at " + location + " lists " + kept.size() + " of the "
                    + partsByName.size() + " index parts of snapshot " + snapshot.snapshotId(),
                    "its manifest.json does not match the catalog: rerun the `granary pack` that wrote it");
        }
        byte[] content = manifest.withShards(kept).toJson();
        return new SnapshotFiles(dataset, snapshot.snapshotId(), "shards", remote,
                List.of(new SnapshotFiles.Generated(Manifest.FILE_NAME, content, "manifest")));
    }
}
