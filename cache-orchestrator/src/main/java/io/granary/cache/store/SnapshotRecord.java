package io.granary.cache.store;

import java.util.List;

/**
 * A dataset snapshot the cache was asked for, and the files that make it up, each under the name
 * it has in a mount view.
 *
 * @param key {@code <dataset>@<snapshot id>}
 * @param kind {@code table} or {@code shards}
 */
public record SnapshotRecord(String key, String dataset, long snapshotId, String kind, List<File> files,
                             long stagedMillis, long lastUsedMillis, long uses) {

    /** A file of the snapshot: its path in a view, the entry holding it, its size, what it is, and its rows where known (-1 otherwise). */
    public record File(String name, String entryId, long size, String kind, long rows) {}

    public SnapshotRecord {
        files = List.copyOf(files);
    }

    public long bytes() {
        return files.stream().mapToLong(File::size).sum();
    }

    /**
     * The record after one more use (a stage, a mount, a follow). Uses are counted per snapshot,
     * not per file, so that a stage of 20k cached files writes one record; eviction derives each
     * file's last use and use count from the snapshots that list it.
     */
    public SnapshotRecord staged(long nowMillis) {
        return new SnapshotRecord(key, dataset, snapshotId, kind, files, nowMillis, Math.max(lastUsedMillis, nowMillis), uses + 1);
    }

    public static String key(String dataset, long snapshotId) {
        return dataset + "@" + snapshotId;
    }
}
