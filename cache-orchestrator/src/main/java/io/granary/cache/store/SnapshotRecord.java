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
                             long stagedMillis, long lastUsedMillis) {

    /** A file of the snapshot: its path in a view, the entry holding it, its size, what it is, and its rows where known (-1 otherwise). */
    public record File(String name, String entryId, long size, String kind, long rows) {}

    public SnapshotRecord {
        files = List.copyOf(files);
    }

    public long bytes() {
        return files.stream().mapToLong(File::size).sum();
    }

    public SnapshotRecord used(long nowMillis) {
        return new SnapshotRecord(key, dataset, snapshotId, kind, files, stagedMillis, Math.max(lastUsedMillis, nowMillis));
    }

    public SnapshotRecord staged(long nowMillis) {
        return new SnapshotRecord(key, dataset, snapshotId, kind, files, nowMillis, Math.max(lastUsedMillis, nowMillis));
    }

    public static String key(String dataset, long snapshotId) {
        return dataset + "@" + snapshotId;
    }
}
